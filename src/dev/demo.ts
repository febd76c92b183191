import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openActivityDeps } from '../activities/deps';
import type { CampaignCatalog } from '../campaigns/catalog';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import type { JourneyResult } from '../shared/journey-types';
import { supportUpdateSignal, surveyAnswerSignal } from '../shared/messages';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { deliverCustomerEvent, startJourney } from '../triggers/journeys';
import type { Store } from '../store';
import { createWorker } from '../workers/worker';
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

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each stage once, with the demo campaigns' second-scale timing, and the customer events that steer them. */
async function runStages(client: Client, store: Store, catalog: CampaignCatalog, taskQueue: string, run: string) {
  const id = (name: string) => `demo-${run}-${name}`;
  const people = [
    { id: id('ada'), name: 'Ada', email: 'ada@example.com', preferredChannel: 'email' as const },
    { id: id('grace'), name: 'Grace', phone: '+15005550006', email: 'grace@example.com', preferredChannel: 'sms' as const },
    { id: id('linus'), name: 'Linus', email: 'linus@example.com', preferredChannel: 'email' as const, tier: 'gold' },
    { id: id('barbara'), name: 'Barbara', email: 'barbara@example.com', preferredChannel: 'email' as const },
  ];
  for (const p of people) await store.upsertCustomer({ ...p, consentEmail: true, consentSms: true });
  const [ada, grace, linus, barbara] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0], (typeof people)[0]];

  const onboarding = await startJourney(client, catalog, taskQueue, { stage: 'onboarding', customerId: ada.id });
  const winbackWon = await startJourney(client, catalog, taskQueue, { stage: 'winback', customerId: grace.id });
  const winbackLost = await startJourney(client, catalog, taskQueue, { stage: 'winback', customerId: barbara.id });
  const complaint = await startJourney(client, catalog, taskQueue, { stage: 'complaint', customerId: linus.id, ticket: { id: `T-${run}`, subject: 'Late delivery' } });
  console.log(`started: ${[onboarding, winbackWon, winbackLost, complaint].map((j) => j.workflowId).join(', ')}`);

  await pause(3000);
  console.log(`${ada.name} activates; ${grace.name} buys with the win-back offer`);
  await deliverCustomerEvent(client, catalog, taskQueue, ada.id, { type: 'activation' });
  await deliverCustomerEvent(client, catalog, taskQueue, grace.id, { type: 'purchase', amount: 80 });
  const ticket = client.workflow.getHandle(complaint.workflowId);
  await pause(1500);
  await ticket.signal(supportUpdateSignal, { type: 'first-response', note: 'We are on it.' });
  await pause(1500);
  await ticket.signal(supportUpdateSignal, { type: 'resolved', note: 'Refund issued.' });
  await pause(1500);
  console.log(`${linus.name} rates the complaint handling 2/5 (a recovery offer follows)`);
  await ticket.signal(surveyAnswerSignal, { survey: 'csat', rating: 2 });

  const results: [string, JourneyResult][] = [];
  for (const j of [onboarding, winbackWon, winbackLost, complaint]) {
    results.push([j.workflowId, await client.workflow.getHandle(j.workflowId).result()]);
  }
  await deliverCustomerEvent(client, catalog, taskQueue, ada.id, { type: 'purchase', amount: 600 });
  await pause(1500);
  return { results, people };
}

/**
 * `npm run demo`: the embedded setup end to end. Starts (or reuses) the dev server, runs a worker, runs every
 * lifecycle stage with the demo campaigns (seconds instead of days) and prints outcomes, messages and where to look.
 * Stays up for browsing when run in a terminal; pass --exit to stop right away.
 */
runMain(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Demo campaigns squeeze days into seconds, so the weekly frequency cap is lifted unless set explicitly.
  const config = loadConfig({
    CAMPAIGNS_DIR: path.join(projectRoot, 'campaigns', 'demo'),
    FREQUENCY_CAP_EMAIL: '50',
    FREQUENCY_CAP_SMS: '50',
    ...process.env,
  });
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
  const { results, people } = await worker.runUntil(() => runStages(client, deps.store, deps.temporal.catalog, t.taskQueue, run));

  console.log('\njourneys:');
  for (const [workflowId, r] of results) {
    const extra = Object.entries(r.details)
      .filter(([k]) => ['offerCode', 'churnReason', 'csat', 'recoveryOfferCode', 'timeToResolutionMs', 'escalations'].includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`  ${workflowId.padEnd(34)} ${r.outcome.padEnd(10)} ${r.messagesSent} sent ${extra}`);
  }
  console.log('\noutcomes recorded per stage:');
  for (const p of people) {
    const rows = await deps.store.listOutcomes({ customerId: p.id });
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(`${row.stage}:${row.status}`, (counts.get(`${row.stage}:${row.status}`) ?? 0) + 1);
    console.log(`  ${p.name.padEnd(8)} ${[...counts].map(([k, n]) => `${k}=${n}`).join(' ')}`);
  }
  console.log(`\nmessages: ${deps.email.kind === 'outbox' ? `${config.email.outboxDir} (.eml files, sms.jsonl)` : 'sent through SMTP/Twilio'}`);
  console.log(`store: ${config.database.url}`);
  if (uiUrl) {
    console.log(`Temporal Web UI: ${uiUrl}/namespaces/${t.namespace}/workflows`);
    console.log(`  filter: CustomerId STARTS_WITH "demo-${run}"`);
  }
  await close();
  await client.connection.close();
  await workerConnection.close();

  const stayUp = server && process.stdout.isTTY && !process.argv.includes('--exit');
  if (stayUp) {
    console.log('\nThe dev server stays up so you can browse the UI; Ctrl-C to stop.');
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    clearInterval(keepAlive);
  }
  await server?.stop();
  console.log('demo finished');
});
