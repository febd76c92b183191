import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { openActivityDeps } from '../activities/deps';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { activateSample, startSample } from '../triggers/sample';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { createWorker } from '../workers/worker';
import { startConfiguredDevServer, type DevServer } from './dev-server';

async function temporalReachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm run demo`: the embedded setup end to end. Starts (or reuses) the dev server, runs a worker, starts the
 * sample workflow for a few customers, activates one, and prints outcomes and where to look in the Web UI.
 * Stays up for browsing when run in a terminal; pass --exit to stop right away.
 */
runMain(async () => {
  const config = loadConfig();
  const t = config.temporal;
  let server: DevServer | undefined;
  if (t.embedded && !(await temporalReachable(t.address))) {
    console.log('starting the embedded Temporal dev server ...');
    server = await startConfiguredDevServer(config, (line) => console.log(line));
  } else {
    console.log(`using the Temporal server at ${t.address}`);
  }
  const uiUrl = server?.uiUrl ?? (t.embedded ? `http://localhost:${t.devServer.uiPort}` : undefined);

  const workerConnection = await connectWorker(t);
  const client = await connectClient(t);
  const { deps, close } = await openActivityDeps(config, client);
  const worker = await createWorker({ connection: workerConnection, namespace: t.namespace, taskQueue: t.taskQueue, deps });
  const run = randomBytes(3).toString('hex');
  const customers = [
    { customerId: `demo-${run}-ada`, name: 'Ada', activate: true },
    { customerId: `demo-${run}-grace`, name: 'Grace', activate: false },
  ];

  const outcomes = await worker.runUntil(async () => {
    const handles = await Promise.all(
      customers.map((c) =>
        startSample(client, t.taskQueue, { customerId: c.customerId, name: c.name, activationWindow: '3 seconds' }),
      ),
    );
    for (const c of customers.filter((c) => c.activate)) await activateSample(client, c.customerId);
    return Promise.all(handles.map(async (h) => ({ workflowId: h.workflowId, result: await h.result() })));
  });

  console.log('\nsample workflows:');
  for (const { workflowId, result } of outcomes) {
    console.log(`  ${workflowId}: ${result.outcome} ("${result.greeting}")`);
  }
  if (uiUrl) {
    console.log(`\nTemporal Web UI: ${uiUrl}/namespaces/${t.namespace}/workflows`);
    console.log(`  filter: LifecycleStage="sample" AND CustomerId STARTS_WITH "demo-${run}"`);
  }
  await close();
  await client.connection.close();
  await workerConnection.close();

  const stayUp = server && process.stdout.isTTY && !process.argv.includes('--exit');
  if (stayUp) {
    console.log('\nThe dev server stays up so you can browse the UI; Ctrl-C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  }
  await server?.stop();
  console.log('demo finished');
});
