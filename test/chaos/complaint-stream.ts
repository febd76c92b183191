import { expectStatus, type ApiClient } from './api-client';
import type { ChaosCustomer } from './campaigns';
import type { Stack } from './stack';
import { readStore } from './store-read';
import type { Tally } from './tally';
import { errorText, mapBounded, sleep } from './util';

/*
 * Complaint tickets as a support system drives them (signed webhooks, retried with the same Idempotency-Key),
 * with the customer's purchases interleaved, and the bookkeeping each must leave exactly once.
 */

export const UPDATES = [{ type: 'first-response' }, { type: 'update' }, { type: 'update' }, { type: 'resolved' }] as const;
export const PURCHASES_PER_CUSTOMER = 3;
export const LANES = 8;
/** Retries of a careful client: long enough to ride out an API restart (and a key left "in progress" for a while). */
export const RETRY = { retryForMs: 45_000, retryStatuses: [409] };

export interface StreamStats {
  done: number;
  total: number;
  /** Requests that got no 202 in the end (their effect may or may not have happened: the count decides). */
  refused: string[];
  /** Tickets whose resolution was accepted (202): those journeys must close. */
  resolved: Set<string>;
  /** Purchases accepted (202). */
  purchasesAccepted: number;
}

export async function openComplaint(client: ApiClient, ticket: string, customer: ChaosCustomer): Promise<void> {
  const answer = await client.request('POST', '/complaints', { ticketId: ticket, customerId: customer.id, subject: `chaos ${ticket}` }, {
    signed: true,
    idempotencyKey: `open-${ticket}`,
    ...RETRY,
  });
  expectStatus(answer, `open complaint ${ticket}`, 200, 201);
}

/** One ticket's stream: support updates (signed webhooks) interleaved with the customer's purchases, each retried as sent. */
export async function streamFor(client: ApiClient, ticket: string, customer: ChaosCustomer, stats: StreamStats): Promise<void> {
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
export async function purchaseRows(stack: Pick<Stack, 'databaseUrl'>): Promise<Map<string, number>> {
  const rows = await readStore(stack.databaseUrl, "select customer_id, count(*) as n from outcomes where status = 'purchase' group by customer_id");
  return new Map(rows.map((r) => [String(r.customer_id), Number(r.n)]));
}

/** Adds the purchase bookkeeping to the message tally: each purchase recorded exactly once per customer. */
export function addPurchases(t: Tally, customers: ChaosCustomer[], rows: Map<string, number>): string[] {
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
export async function complaintStates(client: ApiClient, tickets: string[], expectedSent: number): Promise<string[]> {
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
export async function addComplaintOutcomes(t: Tally, stack: Pick<Stack, 'databaseUrl'>, tickets: string[]): Promise<string[]> {
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

