import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openActivityDeps } from '../activities/deps';
import { runMain } from '../cli-errors';
import { loadConfig, type AppConfig } from '../config';
import { computeReport } from '../reports/compute';
import { formatTable } from '../reports/format';
import type { JourneyResult } from '../shared/journey-types';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import type { Store } from '../store';
import type { TriggerContext } from '../triggers/context';
import { buildApp } from '../triggers/http/app';
import { startSignalRelay } from '../triggers/signal-relay';
import { setupOptionsFor, setupTemporal } from '../triggers/setup';
import { createWorker } from '../workers/worker';
import { demoApi } from './demo-api';
import { runDemoScenario } from './demo-scenario';
import { startConfiguredDevServer, type DevServer } from './dev-server';
import { projectRoot } from './paths';

async function temporalReachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** `preferred` if nothing listens there, else a free port the OS picks (a second demo next to a running API). */
function availablePort(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      const fallback = net.createServer();
      fallback.listen(0, '127.0.0.1', () => {
        const { port } = fallback.address() as net.AddressInfo;
        fallback.close(() => resolve(port));
      });
    });
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(preferred)));
  });
}

async function demoConfig(): Promise<AppConfig> {
  const port = process.env.HTTP_PORT ? undefined : await availablePort(3000);
  // Demo campaigns squeeze days into seconds, so the weekly frequency cap is lifted unless set explicitly.
  return loadConfig({
    CAMPAIGNS_DIR: path.join(projectRoot, 'campaigns', 'demo'),
    FREQUENCY_CAP_EMAIL: '50',
    FREQUENCY_CAP_SMS: '50',
    ...(port === undefined ? {} : { HTTP_PORT: String(port) }),
    ...process.env,
  });
}

async function printOutcomes(store: Store, customerIds: string[]): Promise<void> {
  const counts = new Map<string, Map<string, number>>();
  for (const customerId of customerIds) {
    for (const row of await store.listOutcomes({ customerId })) {
      const perStage = counts.get(row.stage) ?? new Map<string, number>();
      perStage.set(row.status, (perStage.get(row.status) ?? 0) + 1);
      counts.set(row.stage, perStage);
    }
  }
  console.log('\noutcomes per stage (messages sent, and what customers did):');
  for (const [stage, perStatus] of counts) {
    console.log(`  ${stage.padEnd(11)} ${[...perStatus].map(([status, n]) => `${status}=${n}`).join(' ')}`);
  }
}

/**
 * `npm run demo`: the product end to end on the embedded setup. Starts (or reuses) the Temporal dev server, prepares
 * it as `retention setup` does (namespace, search attributes, the daily win-back schedule), starts a worker and the
 * HTTP API; imports a sample segment and starts onboarding for it; drives every stage through the API (activations,
 * purchases, a signed complaint and its resolution, survey answers through signed links, a lapse found by the win-back
 * schedule); prints what happened, the report, and where to look. Stays up for browsing when run in a terminal; `--exit` stops right away.
 */
runMain(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = await demoConfig();
  const t = config.temporal;
  let server: DevServer | undefined;
  if (t.embedded && !(await temporalReachable(t.address))) {
    console.log('starting the embedded Temporal dev server ...');
    server = await startConfiguredDevServer(config, (line) => console.log(line));
  } else {
    console.log(`using the Temporal server at ${t.address}`);
  }
  const uiUrl = server?.uiUrl ?? (t.embedded ? `http://localhost:${t.devServer.uiPort}` : undefined);

  // A failed run stops the dev server it started too, so the next run starts its own instead of finding a stray one.
  try {
    const workerConnection = await connectWorker(t);
    const client = await connectClient(t);
    const { deps, close } = await openActivityDeps(config, client);
    const catalog = deps.temporal.catalog;
    await setupTemporal(client, setupOptionsFor(config, catalog), (line) => console.log(line));
    const worker = await createWorker({ connection: workerConnection, namespace: t.namespace, taskQueue: t.taskQueue, deps });
    const working = worker.run();

    const ctx: TriggerContext = { client, catalog, taskQueue: t.taskQueue, store: deps.store };
    const app = await buildApp({ config, ctx });
    const relay = startSignalRelay(ctx, { log: (line) => console.warn(line) });
    await app.listen({ host: config.http.host, port: config.http.port });
    const base = config.http.publicBaseUrl;
    console.log(`API on ${base} (OpenAPI: ${base}/openapi.json)`);

    const run = randomBytes(3).toString('hex');
    const startedAt = new Date(Date.now() - 60_000);
    const api = demoApi(base, config.http.apiTokens[0]?.secret as string, config.http.supportWebhookSecret);
    const story = await runDemoScenario(ctx, config, api, run, (line) => console.log(`- ${line}`));

    console.log('\njourneys:');
    for (const workflowId of story.finishing) {
      const result: JourneyResult = await client.workflow.getHandle(workflowId).result();
      const extra = Object.entries(result.details)
        .filter(([k]) => ['offerCode', 'churnReason', 'csat', 'timeToResolutionMs', 'escalations'].includes(k))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(`  ${workflowId.padEnd(38)} ${result.outcome.padEnd(10)} ${result.messagesSent} sent ${extra}`);
    }
    await printOutcomes(deps.store, story.customerIds);

    const report = await computeReport(deps.store, { from: startedAt, to: new Date(Date.now() + 60_000) });
    console.log(`\nreport for this run's period (all customers in the store):\n${formatTable(report)}`);

    const token = encodeURIComponent(config.http.apiTokens[0]?.secret as string);
    console.log(`\nreport page: ${base}/reports?token=${token}&from=${startedAt.toISOString().slice(0, 10)}`);
    console.log(`messages: ${deps.email.kind === 'outbox' ? `${config.email.outboxDir} (.eml files, sms.jsonl)` : 'sent through SMTP/Twilio'}`);
    console.log(`store: ${config.database.url}`);
    if (uiUrl) {
      console.log(`Temporal Web UI: ${uiUrl}/namespaces/${t.namespace}/workflows`);
      console.log(`  filter: CustomerId STARTS_WITH "demo-${run}"; schedules: ${uiUrl}/namespaces/${t.namespace}/schedules`);
    }

    const stayUp = process.stdout.isTTY && !process.argv.includes('--exit');
    if (stayUp) {
      console.log('\nThe worker, the API and the dev server stay up so you can browse; Ctrl-C to stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    }
    await relay.stop();
    await app.close();
    if (worker.getState() === 'RUNNING') worker.shutdown(); // Ctrl-C already began the SDK's own graceful shutdown
    await working;
    await close();
    await client.connection.close();
    await workerConnection.close();
  } finally {
    await server?.stop();
  }
  console.log('demo finished');
});
