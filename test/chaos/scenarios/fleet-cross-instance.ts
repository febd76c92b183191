import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Report } from '../../../src/reports/types';
import { expectStatus, type ApiClient } from '../api-client';
import { customerPrefix } from '../burst';
import { expectedComplaint, type ChaosCustomer, type ExpectedMessage } from '../campaigns';
import {
  addComplaintOutcomes,
  addPurchases,
  complaintStates,
  LANES,
  openComplaint,
  purchaseRows,
  PURCHASES_PER_CUSTOMER,
  streamFor,
  UPDATES,
  type StreamStats,
} from '../complaint-stream';
import { importCustomers, makeCustomers, startStage } from '../customers';
import { startFleetStack } from '../fleet-stack';
import { closedWorkflowCount, runningWorkflowIds } from '../journeys';
import { splitZones } from '../quiet-hours';
import { listed, resultFromTally, type RunContext, type Scenario, type ScenarioResult } from '../result';
import type { Stack } from '../stack';
import { stepTag } from '../templates';
import { tally } from '../tally';
import type { TemporalServer } from '../temporal';
import { mapBounded, progress, sleep, waitUntil } from '../util';

const NAME = 'fleet-cross-instance';
/** test/chaos/campaigns/winback.json as written: two steps, then (no purchase) the churn survey. */
const WINBACK_STEPS = ['we-miss-you', 'offer', 'churn-survey'];

/**
 * A signed support webhook accepted by one API instance, then the very same request (same timestamp and signature)
 * sent to the other: the second must be refused, because the claim on the signature lives in the shared store.
 */
async function replayAcrossInstances(stack: Stack, ticket: string): Promise<string[]> {
  const [a, b] = stack.clients as [ApiClient, ApiClient];
  const body = { type: 'update', note: 'replay probe', eventId: `${ticket}-replay-probe` };
  const signed = a.signedHeaders('POST', `/complaints/${ticket}/events`, JSON.stringify(body));
  const first = await a.request('POST', `/complaints/${ticket}/events`, body, { headers: signed });
  const replay = await b.request('POST', `/complaints/${ticket}/events`, body, { headers: signed });
  const wrong: string[] = [];
  if (first.status !== 202) wrong.push(`first delivery to ${stack.apis[0]?.name}: HTTP ${first.status} ${JSON.stringify(first.body).slice(0, 200)}`);
  if (replay.status !== 409) wrong.push(`replay to ${stack.apis[1]?.name}: HTTP ${replay.status} (expected 409) ${JSON.stringify(replay.body).slice(0, 200)}`);
  return wrong;
}

/** The workers that ran activities of these workflows, by the identity Temporal recorded in their histories. */
async function activityWorkers(temporal: TemporalServer, workflowIds: string[]): Promise<Map<string, number>> {
  const client = await temporal.client();
  const identities = new Map<string, number>();
  await mapBounded(workflowIds, 4, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) identities.set(identity, (identities.get(identity) ?? 0) + 1);
    }
  });
  return identities;
}

/** Messages the fakes received, by stage (from the `[chaos <stage>/<step>]` tag every subject and SMS body carries). */
function receivedByStage(stack: Stack): Map<string, number> {
  const counts = new Map<string, number>();
  const texts = [...stack.world.smtp.records().map((r) => r.subject), ...stack.world.twilio.records().map((r) => r.body)];
  for (const text of texts) {
    const stage = stepTag(text)?.split('/')[0] ?? '(untagged)';
    counts.set(stage, (counts.get(stage) ?? 0) + 1);
  }
  return counts;
}

/** The report (GET /reports/data through the other instance) against what the fakes received and what was sent in. */
function compareReport(report: Report, received: Map<string, number>, expect: { tickets: number; winbacks: number }): string[] {
  const wrong: string[] = [];
  const sentFor = (stage: string) =>
    report.campaigns.filter((c) => c.stage === stage).reduce((n, c) => n + c.variants.reduce((m, v) => m + v.sent, 0), 0);
  for (const stage of ['complaint', 'winback']) {
    if (sentFor(stage) !== (received.get(stage) ?? 0)) wrong.push(`${stage}: report says ${sentFor(stage)} sent, the fakes received ${received.get(stage) ?? 0}`);
  }
  if (report.complaints.opened !== expect.tickets) wrong.push(`complaints opened ${report.complaints.opened}, ${expect.tickets} were opened`);
  if (report.complaints.resolved !== expect.tickets) wrong.push(`complaints resolved ${report.complaints.resolved}, ${expect.tickets} were resolved`);
  if (report.winback.entered !== expect.winbacks) wrong.push(`win-back entered ${report.winback.entered}, ${expect.winbacks} were started`);
  return wrong;
}

/**
 * (fleet) Journeys started through API instance A, support webhooks and purchases sent to instance B: complaints
 * resolve, purchases land in nurture journeys, win-back runs to its end, across two workers; a signed webhook
 * replayed to the other instance is refused; the report read through B equals what the fakes received.
 */
async function run(ctx: RunContext): Promise<ScenarioResult> {
  const startedAt = Date.now();
  await mkdir(path.join(ctx.runDir, NAME), { recursive: true });
  const deadlineMs = ctx.deadlineMs ?? 240_000;
  let stack: Stack | undefined;
  try {
    stack = await startFleetStack({ name: NAME, runDir: ctx.runDir, templatesDir: ctx.templatesDir });
    const [a, b] = stack.clients as [ApiClient, ApiClient];
    const count = Math.max(10, Math.round(ctx.journeys / 10));
    const everyone = makeCustomers(customerPrefix(NAME), 2 * count, splitZones(Date.now(), 0, { start: 0, end: 0 }), { quietEvery: 0, smsEvery: 2 });
    const complainers = everyone.slice(0, count);
    const lapsed = everyone.slice(count);
    const tickets = complainers.map((c) => `T-${c.id}`);
    await importCustomers(a, everyone);

    const streamAt = Date.now();
    await mapBounded(complainers, LANES, (c, i) => openComplaint(a, tickets[i] as string, c));
    await startStage(a, 'winback', lapsed);
    progress(`${NAME}: ${count} complaints and ${count} win-backs started through ${stack.apis[0]?.name}; updates and purchases go to ${stack.apis[1]?.name}`);
    const replayWrong = await replayAcrossInstances(stack, tickets[0] as string);
    const stats: StreamStats = { done: 0, total: count * (UPDATES.length + PURCHASES_PER_CUSTOMER), refused: [], resolved: new Set(), purchasesAccepted: 0 };
    await mapBounded(complainers, LANES, (c, i) => streamFor(b, tickets[i] as string, c, stats));
    // The replay probe's update is one more message for the first ticket.
    const expected: ExpectedMessage[] = [
      ...complainers.flatMap((c, i) => expectedComplaint(c, i === 0 ? [{ type: 'update' }, ...UPDATES] : [...UPDATES])),
      ...lapsed.flatMap((c) => WINBACK_STEPS.map((step) => ({ customerId: c.id, stage: 'winback', step, channel: c.preferredChannel }))),
    ];

    const s = stack;
    const settled = await waitUntil(
      async () => {
        const complaintsClosed = await closedWorkflowCount(s.temporal, s.taskQueue, 'complaintWorkflow');
        const winbacksClosed = await closedWorkflowCount(s.temporal, s.taskQueue, 'winbackWorkflow');
        const purchases = [...(await purchaseRows(s)).values()].reduce((x, y) => x + y, 0);
        return complaintsClosed >= count && winbacksClosed >= count && purchases >= stats.purchasesAccepted;
      },
      Math.max(streamAt + deadlineMs - Date.now(), 0),
      2000,
    );
    await sleep(3000);
    const notes: string[] = [];
    if (!settled) notes.push(`deadline (${Math.round(deadlineMs / 1000)} s) reached before every complaint and win-back closed and every purchase was recorded`);

    const running = new Set([
      ...(await runningWorkflowIds(s.temporal, s.taskQueue, 'complaintWorkflow').catch(() => new Set<string>())),
      ...(await runningWorkflowIds(s.temporal, s.taskQueue, 'winbackWorkflow').catch(() => new Set<string>())),
    ]);
    const t = tally({
      customers: everyone,
      expected,
      email: s.world.smtp.records(),
      sms: s.world.twilio.records(),
      quietHours: {},
      policy: s.emailInDoubt,
      windows: [],
      stillRunning: new Set(
        everyone.filter((c: ChaosCustomer, i) => running.has(i < count ? `complaint-${tickets[i] as string}` : `winback-${c.id}`)).map((c) => c.id),
      ),
    });
    const purchaseWrong = addPurchases(t, complainers, await purchaseRows(s));
    const stateWrong = await complaintStates(b, tickets.slice(1), expectedComplaint(complainers[0] as ChaosCustomer, [...UPDATES]).length);
    const outcomeWrong = await addComplaintOutcomes(t, s, tickets);
    const report = expectStatus(await b.request('GET', '/reports/data'), 'report', 200).body as Report;
    const reportWrong = compareReport(report, receivedByStage(s), { tickets: count, winbacks: count });
    const workers = await activityWorkers(s.temporal, [...tickets.slice(0, 5).map((x) => `complaint-${x}`), ...lapsed.slice(0, 5).map((c) => `winback-${c.id}`)]);
    const workerWrong = workers.size >= 2 ? [] : [`activities of the sampled journeys ran on ${workers.size} worker(s): ${[...workers.keys()].join(', ')}`];
    // Each of these is a broken promise of the fleet: counted as unexpected so that the run fails.
    const broken = [...replayWrong, ...reportWrong, ...workerWrong];
    t.unexpected += broken.length;
    notes.push(
      `activities of 10 sampled journeys per worker identity: ${JSON.stringify(Object.fromEntries(workers))}`,
      `report through ${s.apis[1]?.name}: complaints ${report.complaints.opened} opened / ${report.complaints.resolved} resolved, win-back entered ${report.winback.entered}; fakes by stage ${JSON.stringify(Object.fromEntries(receivedByStage(s)))}`,
      ...listed('cross-instance promises broken', broken),
      ...listed('requests refused or unanswered', stats.refused),
      ...listed('journey state (GET /journeys) wrong', stateWrong),
      ...listed('complaint outcome rows not exactly once', outcomeWrong),
      ...listed('customers whose purchase rows are not 3', purchaseWrong),
    );
    return resultFromTally(NAME, t, startedAt, notes);
  } finally {
    await stack?.stop();
  }
}

export const fleetCrossInstance: Scenario = {
  name: NAME,
  description: 'fleet: journeys started through API A, webhooks and purchases to API B, replayed webhook refused, report equals the fakes',
  run,
};
