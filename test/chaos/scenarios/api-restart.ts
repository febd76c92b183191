import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { expectStatus, type ApiClient } from '../api-client';
import { customerPrefix } from '../burst';
import { expectedComplaint, type ChaosCustomer, type ExpectedMessage } from '../campaigns';
import { importCustomers, makeCustomers } from '../customers';
import { closedWorkflowCount, runningWorkflowIds } from '../journeys';
import { Keeper } from '../keeper';
import { splitZones } from '../quiet-hours';
import { listed, resultFromTally, type RunContext, type Scenario, type ScenarioResult } from '../result';
import { startStack, type Stack } from '../stack';
import { readStore } from '../store-read';
import { tally, type Tally } from '../tally';
import { startTemporal } from '../temporal';
import { errorText, mapBounded, progress, sleep, waitUntil } from '../util';

const NAME = 'api-restart';
const UPDATES = [{ type: 'first-response' }, { type: 'update' }, { type: 'update' }, { type: 'resolved' }] as const;
const PURCHASES_PER_CUSTOMER = 3;
const LANES = 8;
/** Retries of a careful client: long enough to ride out an API restart (and a key left "in progress" for a while). */
const RETRY = { retryForMs: 45_000, retryStatuses: [409] };

interface StreamStats {
  done: number;
  total: number;
  /** Requests that got no 202 in the end (their effect may or may not have happened: the count decides). */
  refused: string[];
  /** Tickets whose resolution was accepted (202): those journeys must close. */
  resolved: Set<string>;
  /** Purchases accepted (202). */
  purchasesAccepted: number;
}

async function openComplaint(client: ApiClient, ticket: string, customer: ChaosCustomer): Promise<void> {
  const answer = await client.request('POST', '/complaints', { ticketId: ticket, customerId: customer.id, subject: `chaos ${ticket}` }, {
    signed: true,
    idempotencyKey: `open-${ticket}`,
    ...RETRY,
  });
  expectStatus(answer, `open complaint ${ticket}`, 200, 201);
}

/** One ticket's stream: support updates (signed webhooks) interleaved with the customer's purchases, each retried as sent. */
async function streamFor(client: ApiClient, ticket: string, customer: ChaosCustomer, stats: StreamStats): Promise<void> {
  const steps: { what: string; send: () => Promise<{ status: number; body: unknown }>; accepted: () => void }[] = [];
  UPDATES.forEach((update, i) => {
    const eventId = `${ticket}-u${i + 1}`;
    steps.push({
      what: `${ticket} ${update.type} #${i + 1}`,
      send: () =>
        client.request('POST', `/complaints/${ticket}/events`, { ...update, note: `step ${i + 1}`, eventId }, { signed: true, idempotencyKey: eventId, ...RETRY }),
      accepted: () => {
        if (update.type === 'resolved') stats.resolved.add(ticket);
      },
    });
    if (i < PURCHASES_PER_CUSTOMER) {
      const orderId = `${customer.id}-o${i + 1}`;
      steps.push({
        what: `${customer.id} purchase ${orderId}`,
        send: () =>
          client.request('POST', `/customers/${customer.id}/events`, { type: 'purchase', amount: 10 + i, orderId, eventId: orderId }, { idempotencyKey: orderId, ...RETRY }),
        accepted: () => {
          stats.purchasesAccepted++;
        },
      });
    }
  });
  for (const step of steps) {
    try {
      const answer = await step.send();
      if (answer.status === 202) step.accepted();
      else stats.refused.push(`${step.what}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 120)}`);
    } catch (err) {
      stats.refused.push(`${step.what}: ${errorText(err)}`);
    }
    stats.done++;
    await sleep(150);
  }
}

/** Purchase outcome rows per customer, as the nurture journeys recorded them. */
async function purchaseRows(stack: Stack): Promise<Map<string, number>> {
  const rows = await readStore(stack.databaseUrl, "select customer_id, count(*) as n from outcomes where status = 'purchase' group by customer_id");
  return new Map(rows.map((r) => [String(r.customer_id), Number(r.n)]));
}

/** Adds the purchase bookkeeping to the message tally: each purchase recorded exactly once per customer. */
function addPurchases(t: Tally, customers: ChaosCustomer[], rows: Map<string, number>): string[] {
  const wrong: string[] = [];
  for (const c of customers) {
    const n = rows.get(c.id) ?? 0;
    t.expected += PURCHASES_PER_CUSTOMER;
    t.delivered += Math.min(n, PURCHASES_PER_CUSTOMER);
    if (n > PURCHASES_PER_CUSTOMER) {
      t.duplicates += n - PURCHASES_PER_CUSTOMER;
      t.duplicateKeys.push(`${c.id} purchase outcome rows x${n} (expected ${PURCHASES_PER_CUSTOMER})`);
    }
    if (n < PURCHASES_PER_CUSTOMER) {
      t.missing += PURCHASES_PER_CUSTOMER - n;
      t.missingLabels.push(`${c.id} purchase outcome rows ${n} of ${PURCHASES_PER_CUSTOMER}`);
    }
    if (n !== PURCHASES_PER_CUSTOMER) wrong.push(`${c.id}: ${n}`);
  }
  return wrong;
}

/** GET /journeys/complaint-<ticket>: the journey's own count of messages sent, and its outcome. */
async function complaintStates(client: ApiClient, tickets: string[], expectedSent: number): Promise<string[]> {
  const wrong: string[] = [];
  await mapBounded(tickets, 4, async (ticket) => {
    const answer = await client.request('GET', `/journeys/complaint-${ticket}`, undefined, { retryForMs: 20_000 });
    const state = answer.body as { messagesSent?: number; outcome?: string };
    if (answer.status !== 200) wrong.push(`${ticket}: HTTP ${answer.status}`);
    else if (state.messagesSent !== expectedSent || state.outcome !== 'resolved') {
      wrong.push(`${ticket}: messagesSent ${state.messagesSent}, outcome ${state.outcome}`);
    }
  });
  return wrong;
}

/** Adds the outcome rows each complaint must record exactly once (first_response, resolved) to the tally. */
async function addComplaintOutcomes(t: Tally, stack: Stack, tickets: string[]): Promise<string[]> {
  const rows = await readStore(
    stack.databaseUrl,
    "select workflow_id, status, count(*) as n from outcomes where stage = 'complaint' and status in ('first_response', 'resolved') group by workflow_id, status",
  );
  const counts = new Map(rows.map((r) => [`${String(r.workflow_id)} ${String(r.status)}`, Number(r.n)]));
  const wrong: string[] = [];
  for (const ticket of tickets) {
    for (const status of ['first_response', 'resolved']) {
      const n = counts.get(`complaint-${ticket} ${status}`) ?? 0;
      t.expected++;
      if (n >= 1) t.delivered++;
      if (n === 0) {
        t.missing++;
        t.missingLabels.push(`complaint-${ticket} ${status} outcome row`);
      }
      if (n > 1) {
        t.duplicates += n - 1;
        t.duplicateKeys.push(`complaint-${ticket} ${status} outcome row x${n}`);
      }
      if (n !== 1) wrong.push(`complaint-${ticket} ${status} x${n}`);
    }
  }
  return wrong;
}

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
  const deadlineMs = ctx.deadlineMs ?? 150_000;
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

    keeper = new Keeper(stack.api);
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
