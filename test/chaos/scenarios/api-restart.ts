import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { customerPrefix } from '../burst';
import {
  addComplaintOutcomes,
  addPurchases,
  complaintStates,
  LANES,
  openComplaint,
  purchaseRows,
  streamFor,
  UPDATES,
  PURCHASES_PER_CUSTOMER,
  type StreamStats,
} from '../complaint-stream';
import { expectedComplaint, type ChaosCustomer, type ExpectedMessage } from '../campaigns';
import { importCustomers, makeCustomers } from '../customers';
import { closedWorkflowCount, runningWorkflowIds } from '../journeys';
import { Keeper } from '../../../src/dev/keeper';
import { splitZones } from '../quiet-hours';
import { listed, resultFromTally, type RunContext, type Scenario, type ScenarioResult } from '../result';
import { startStack, type Stack } from '../stack';
import { tally } from '../tally';
import { startTemporal } from '../temporal';
import { mapBounded, progress, sleep, waitUntil } from '../util';

const NAME = 'api-restart';
/**
 * (6) The API is SIGKILLed twice (and restarted) while support webhooks and customer events stream in from clients
 * that retry on connection errors and 5xx with the same Idempotency-Key; each complaint must send one message per
 * update and record first response and resolution once, each purchase must be recorded once.
 */
async function run(ctx: RunContext): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const dir = path.join(ctx.runDir, NAME);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const deadlineMs = ctx.deadlineMs ?? 240_000;
  const temporal = await startTemporal(dir, logDir);
  let stack: Stack | undefined;
  let keeper: Keeper | undefined;
  try {
    stack = await startStack({ name: NAME, runDir: ctx.runDir, templatesDir: ctx.templatesDir, temporal });
    const client = stack.client;
    const count = Math.max(10, Math.round(ctx.journeys / 5));
    const customers = makeCustomers(customerPrefix(NAME), count, splitZones(Date.now(), 0, { start: 0, end: 0 }), { quietEvery: 0, smsEvery: 2 });
    const tickets = customers.map((c) => `T-${c.id}`);
    await importCustomers(client, customers);
    const expected: ExpectedMessage[] = customers.flatMap((c) => expectedComplaint(c, [...UPDATES]));
    const streamAt = Date.now();
    await mapBounded(customers, LANES, (c, i) => openComplaint(client, tickets[i] as string, c));
    progress(`${NAME}: ${count} complaints opened, streaming ${UPDATES.length} signed updates and ${PURCHASES_PER_CUSTOMER} purchases each`);

    keeper = new Keeper(stack.api, progress);
    const stats: StreamStats = { done: 0, total: count * (UPDATES.length + PURCHASES_PER_CUSTOMER), refused: [], resolved: new Set(), purchasesAccepted: 0 };
    const stream = mapBounded(customers, LANES, (c, i) => streamFor(client, tickets[i] as string, c, stats));
    const notes: string[] = [];
    for (const fraction of [0.25, 0.6]) {
      await waitUntil(() => stats.done >= fraction * stats.total, 60_000);
      await stack.api.kill();
      progress(`${NAME}: API SIGKILLed after ${stats.done}/${stats.total} requests`);
      notes.push(`API SIGKILLed after ${stats.done} of ${stats.total} streamed requests`);
      await waitUntil(() => (stack as Stack).api.ready, 60_000);
    }
    await stream;
    progress(`${NAME}: stream done in ${((Date.now() - streamAt) / 1000).toFixed(1)} s`);

    // Done when every journey whose resolution got through has closed and every accepted purchase is recorded.
    const deadline = streamAt + deadlineMs;
    const settled = await waitUntil(
      async () => {
        const closed = await closedWorkflowCount(temporal, (stack as Stack).taskQueue, 'complaintWorkflow');
        const running = await runningWorkflowIds(temporal, (stack as Stack).taskQueue, 'complaintWorkflow');
        const purchases = [...(await purchaseRows(stack as Stack)).values()].reduce((a, b) => a + b, 0);
        const resolvedClosed = closed >= stats.resolved.size && [...stats.resolved].every((t) => !running.has(`complaint-${t}`));
        return resolvedClosed && purchases >= stats.purchasesAccepted;
      },
      Math.max(deadline - Date.now(), 0),
      2000,
    );
    await sleep(3000);
    if (!settled) notes.push(`deadline (${Math.round(deadlineMs / 1000)} s) reached before every resolved complaint closed and every accepted purchase was recorded`);

    const running = await runningWorkflowIds(temporal, stack.taskQueue, 'complaintWorkflow').catch(() => new Set<string>());
    const t = tally({
      customers,
      expected,
      email: stack.world.smtp.records(),
      sms: stack.world.twilio.records(),
      quietHours: {},
      policy: stack.emailInDoubt,
      windows: [],
      stillRunning: new Set(customers.filter((c, i) => running.has(`complaint-${tickets[i] as string}`)).map((c) => c.id)),
    });
    const purchaseWrong = addPurchases(t, customers, await purchaseRows(stack));
    const stateWrong = await complaintStates(client, tickets, expectedComplaint(customers[0] as ChaosCustomer, [...UPDATES]).length);
    const outcomeWrong = await addComplaintOutcomes(t, stack, tickets);
    notes.push(
      keeper.describe(),
      `client: ${JSON.stringify(client.stats)}`,
      ...listed('requests refused or unanswered', stats.refused),
      ...listed('journey state (GET /journeys) wrong', stateWrong),
      ...listed('complaint outcome rows not exactly once', outcomeWrong),
      ...listed('customers whose purchase rows are not 3', purchaseWrong),
    );
    // A request refused in the end shows in the counts through what it should have caused (a message, an outcome row).
    return resultFromTally(NAME, t, startedAt, notes);
  } finally {
    await keeper?.stop();
    await stack?.stop();
    await temporal.stop();
  }
}

export const apiRestart: Scenario = {
  name: NAME,
  description: 'API SIGKILL and restart while signed support webhooks and customer events stream in with client retries',
  run,
};
