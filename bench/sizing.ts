/**
 * Sizing benchmark (issue 11): history events, history bytes, Temporal Cloud actions, workflow tasks and activity
 * tasks per journey of each stage, measured from real histories, and from them a sizing model for 100k, 1M and 10M
 * customers.
 *
 *   npm run bench:sizing -- [--rounds 3] [--settle 75] [--max-wait 120] [--keep]
 *
 * What runs: the Temporal dev server (`temporal server start-dev`, the project's CLI, on a free port, with a SQLite
 * file in a temporary folder so its growth can be measured), the product's own worker (createWorker) and HTTP API
 * (buildApp) in this process, and the demo's story (src/dev/demo-scenario.ts) `--rounds` times, each with customers of
 * its own: eight onboardings (three converted by an activation, the others completed), purchases in nurture (one a
 * tier-up), a complaint with a first response, its resolution and a CSAT answer, the daily win-back schedule finding
 * two lapsed customers (one won back by a purchase, one churned with a churn-survey answer). Per round the bench adds
 * a second complaint with two support updates before the resolution and no CSAT answer (the CSAT timer runs out), and
 * two more purchases (one a tier-up to gold). Then it lets the system run, `--settle` seconds and then until only nurture
 * journeys are open (at most `--max-wait` seconds more): nurture touches, nurture runs that continue as new, customers
 * who go quiet (45 s in the demo campaign) and lapse from nurture into win-back and churn without answering the survey.
 *
 * Campaigns are the demo's (campaigns/demo, seconds instead of days), copied to the run folder with two changes to
 * nurture: a touch every 6 s instead of 20 s (more touches per minute of bench) and maxHistoryEvents 50 instead of 2000
 * (so nurture runs continue as new during the bench). Neither changes what a touch or a continue-as-new writes. The
 * demo campaigns have no quiet hours and no holdout: an SMS in quiet hours adds one timer (and its workflow task) to a
 * send, a held-out customer has a local activity instead of the send activity; neither is measured here.
 *
 * Afterwards every execution in the namespace (each run of a continue-as-new chain counts as one) is listed, its
 * history fetched (client.workflow.getHandle(id, runId).fetchHistory()) and grouped by workflow type:
 *   events       history events of the run
 *   bytes        temporal.api.history.v1.History.encode(history).finish().length
 *   workflowTasks WorkflowTaskCompleted events; activityTasks: activity attempts (the attempt of each ActivityTaskStarted)
 *   actions      billable Temporal Cloud actions, counted from the events by the published definition
 *                (https://docs.temporal.io/cloud/actions, "Temporal Cloud Actions", read 2026-11-29):
 *     - WorkflowExecutionStarted: 1 (client start, a hand-off's start from an activity, continue-as-new: the new run's
 *       start is its action, not the ContinuedAsNew event). Started by a Schedule (TemporalScheduledById): 3 in all
 *       ("each execution of a Schedule accrues three Actions"). Signal-with-start (WorkflowExecutionSignaled right after
 *       the start): 1 in all, the signal is not counted again.
 *     - ActivityTaskScheduled: 1; ActivityTaskStarted: attempt - 1 more (retries).
 *     - MarkerRecorded of a local activity (marker `core_local_activity`): all local activities of one workflow task
 *       count as one action (grouped by the marker's workflowTaskCompletedEventId); local activity retries from
 *       WorkflowTaskCompleted.meteringMetadata.nonfirstLocalActivityExecutionAttempts. Patch markers are not actions.
 *     - TimerStarted: 1 (condition() with a timeout is a timer).
 *     - WorkflowExecutionSignaled: 1 (from a client, or forwarded from an activity).
 *     - WorkflowExecutionUpdateAccepted: 1 (rejected updates count too but are not written to history: not counted).
 *     - UpsertWorkflowSearchAttributes: 1 per command, except one that only sets TemporalChangeVersion (patching).
 *     - StartChildWorkflowExecutionInitiated: 2 (none in this product).
 *     - Not actions by that page: WorkflowPropertiesModified (upsertMemo; counted apart as memoUpserts), workflow
 *       task events, activity completions, timer fired/cancelled, workflow completion, ContinuedAsNew.
 *     - Not in history, so not in `actions`: queries (the product's own are rare: a hand-off to a journey that is
 *       closing) and activity heartbeats. `heartbeatActionsEstimate` adds one action per sendMessage attempt: the send
 *       heartbeats once after claiming its lease, and the SDK sends an activity's first heartbeat right away (later
 *       ones are throttled to 80% of the 30 s heartbeat timeout; a transport call here lasts far less than 24 s).
 *       `actionsWithHeartbeats` = actions + that estimate.
 * Nurture never ends on its own, so it is also measured per episode: the history is cut at every wake-up (TimerFired,
 * WorkflowExecutionSignaled) and each piece is classified (start, start of a continued run, touch, touch that ends in
 * continue-as-new, purchase, purchase with a tier-up, lapse into win-back, other). perStage.nurture is per run.
 *
 * The sizing model (JSON `sizing`, the tables in bench/README.md) multiplies the measured figures by a yearly profile
 * per customer (YEAR, below) and uses assumptions for peaks and worker capacity (ASSUME, below); change them there.
 * The self-hosted database estimate uses the measured growth of the dev server's SQLite file per history byte.
 *
 * Progress lines and tables on stderr; the last stdout line is one JSON object. Never assert these figures in tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { openActivityDeps } from '../src/activities/deps';
import { loadConfig } from '../src/config';
import { demoApi } from '../src/dev/demo-api';
import { runDemoScenario } from '../src/dev/demo-scenario';
import { startDevServer } from '../src/dev/dev-server';
import { projectRoot } from '../src/dev/paths';
import { projectCliPath } from '../src/dev/temporal-cli';
import { connectClient, connectWorker } from '../src/shared/temporal-connection';
import type { TriggerContext } from '../src/triggers/context';
import { buildApp } from '../src/triggers/http/app';
import { setupOptionsFor, setupTemporal } from '../src/triggers/setup';
import { createWorker } from '../src/workers/worker';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ET = temporal.api.enums.v1.EventType;
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const SECONDS_PER_YEAR = 365 * 86_400;

const STAGES = { onboardingWorkflow: 'onboarding', nurtureWorkflow: 'nurture', complaintWorkflow: 'complaint', winbackWorkflow: 'winback' } as const;
type StageName = (typeof STAGES)[keyof typeof STAGES];

/**
 * What one customer does in a year (assumptions, not measurements). Nurture: a monthly touch and the anniversary,
 * some purchases; a share of customers enter onboarding (signups), complain, lapse into win-back.
 */
const YEAR = {
  onboardingPerCustomer: 0.3,
  onboardingConvertedShare: 0.4,
  nurtureWakeUps: 13, // 12 monthly touches + 1 anniversary (same history shape as a touch)
  purchases: 4,
  tierUps: 0.3,
  complaintsPerCustomer: 0.1,
  complaintCsatAnsweredShare: 0.3,
  winbackPerCustomer: 0.2,
  winbackWonBackShare: 0.25,
  winbackChurnAnsweredShare: 0.15, // the rest churns without answering the survey
  /** Production nurture (campaigns/nurture.json) continues as new at 2000 events. */
  nurtureMaxHistoryEvents: 2000,
  /** How long a journey stays open with the production campaigns (campaigns/*.json): open (active) storage. */
  openDays: { onboarding: 10, complaint: 4, winback: 20 },
} as const;

const ASSUME = {
  /** Peak over average: sends cluster in waking hours (quiet hours 21-08) and business days. */
  dailyPeakFactor: 3,
  /** A bulk launch on top of that: onboarding for this share of all customers within launchSeconds. */
  launchShare: 0.01,
  launchSeconds: 600,
  /** One worker process (2 cores): workflow tasks and activity tasks per second it sustains (bench:scale measures it). */
  workerWorkflowTasksPerSec: 150,
  workerActivityTasksPerSec: 100,
  /** SMTP_RATE_PER_SECOND default: each worker's sends per second. */
  workerSendsPerSec: 50,
  minWorkers: 2,
  retentionDays: 30,
  /** Temporal Cloud: the namespace APS limit starts here and rises with use (docs: Cloud limits). */
  cloudDefaultApsLimit: 500,
} as const;

const OptionsSchema = z.object({
  rounds: z.coerce.number().int().min(1).max(10).default(3),
  settle: z.coerce.number().int().min(0).max(900).default(75),
  maxWait: z.coerce.number().int().min(0).max(900).default(120),
  keep: z.boolean().default(false),
});

function parseOptions(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string' }, settle: { type: 'string' }, 'max-wait': { type: 'string' }, keep: { type: 'boolean' } } });
  const parsed = OptionsSchema.safeParse({ ...values, maxWait: values['max-wait'] });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function fileBytes(file: string): Promise<number> {
  let total = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) total += existsSync(f) ? (await stat(f)).size : 0;
  return total;
}

function decodePayload(payload: temporal.api.common.v1.IPayload | null | undefined): unknown {
  if (!payload?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8'));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Counting

interface Counts {
  events: number;
  bytes: number;
  actions: number;
  heartbeatActionsEstimate: number;
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  timers: number;
  signals: number;
  updates: number;
  searchAttributeUpserts: number;
  memoUpserts: number;
  changeVersionUpserts: number;
  actionsByKind: Record<string, number>;
  activityTypes: Record<string, number>;
}

function num(v: number | Long | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}
type Long = { toNumber(): number };

/** Counts one history (or a slice of one). `wholeFromStart`: the slice begins with the run's first event. */
function count(events: HistoryEvent[], wholeFromStart: boolean): Counts {
  const c: Counts = {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode({ events }).finish().length,
    actions: 0,
    heartbeatActionsEstimate: 0,
    workflowTasks: 0,
    activityTasks: 0,
    localActivities: 0,
    timers: 0,
    signals: 0,
    updates: 0,
    searchAttributeUpserts: 0,
    memoUpserts: 0,
    changeVersionUpserts: 0,
    actionsByKind: {},
    activityTypes: {},
  };
  const action = (kind: string, n = 1) => {
    if (n <= 0) return;
    c.actions += n;
    c.actionsByKind[kind] = (c.actionsByKind[kind] ?? 0) + n;
  };
  const activityTypeOf = new Map<number, string>();
  const laTasks = new Set<number>();
  const signalWithStart = wholeFromStart && events[1]?.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
  events.forEach((e, index) => {
    switch (e.eventType) {
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const fields = e.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {};
        action('start_workflow');
        if ('TemporalScheduledById' in fields) action('schedule_start', 2);
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        c.workflowTasks++;
        const retries = num(e.workflowTaskCompletedEventAttributes?.meteringMetadata?.nonfirstLocalActivityExecutionAttempts);
        action('retry_local_activity', retries);
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        activityTypeOf.set(num(e.eventId), type);
        c.activityTypes[type] = (c.activityTypes[type] ?? 0) + 1;
        action('schedule_activity');
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attempts = Math.max(1, num(e.activityTaskStartedEventAttributes?.attempt));
        c.activityTasks += attempts;
        action('retry_activity', attempts - 1);
        const type = activityTypeOf.get(num(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (type === 'sendMessage') c.heartbeatActionsEstimate += attempts;
        break;
      }
      case ET.EVENT_TYPE_MARKER_RECORDED: {
        const a = e.markerRecordedEventAttributes;
        if (a?.markerName !== LOCAL_ACTIVITY_MARKER) break;
        c.localActivities++;
        const task = num(a.workflowTaskCompletedEventId);
        if (!laTasks.has(task)) {
          laTasks.add(task);
          action('record_activity_markers');
        }
        break;
      }
      case ET.EVENT_TYPE_TIMER_STARTED:
        c.timers++;
        action('start_timer');
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        c.signals++;
        if (!(signalWithStart && index === 1)) action('signal_workflow');
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        c.updates++;
        action('accept_workflow_update');
        break;
      case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const keys = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
        if (keys.length > 0 && keys.every((k) => k === 'TemporalChangeVersion')) {
          c.changeVersionUpserts++;
          break;
        }
        c.searchAttributeUpserts++;
        action('upsert_workflow_search_attributes');
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        c.memoUpserts++;
        break;
      case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        action('start_child_workflow', 2);
        break;
      default:
        break;
    }
  });
  return c;
}

interface Summary {
  n: number;
  eventsMean: number;
  eventsMin: number;
  eventsMax: number;
  bytesMean: number;
  bytesMax: number;
  actionsMean: number;
  actionsMin: number;
  actionsMax: number;
  actionsWithHeartbeatsMean: number;
  workflowTasksMean: number;
  activityTasksMean: number;
  localActivitiesMean: number;
  timersMean: number;
  signalsMean: number;
  updatesMean: number;
  searchAttributeUpsertsMean: number;
  memoUpsertsMean: number;
  changeVersionUpsertsMean: number;
  actionsByKindMean: Record<string, number>;
}

function summarize(list: Counts[]): Summary {
  const n = list.length;
  const mean = (f: (c: Counts) => number) => (n === 0 ? 0 : round(list.reduce((s, c) => s + f(c), 0) / n, 2));
  const min = (f: (c: Counts) => number) => (n === 0 ? 0 : Math.min(...list.map(f)));
  const max = (f: (c: Counts) => number) => (n === 0 ? 0 : Math.max(...list.map(f)));
  const kinds = [...new Set(list.flatMap((c) => Object.keys(c.actionsByKind)))].sort();
  return {
    n,
    eventsMean: mean((c) => c.events),
    eventsMin: min((c) => c.events),
    eventsMax: max((c) => c.events),
    bytesMean: Math.round(mean((c) => c.bytes)),
    bytesMax: max((c) => c.bytes),
    actionsMean: mean((c) => c.actions),
    actionsMin: min((c) => c.actions),
    actionsMax: max((c) => c.actions),
    actionsWithHeartbeatsMean: mean((c) => c.actions + c.heartbeatActionsEstimate),
    workflowTasksMean: mean((c) => c.workflowTasks),
    activityTasksMean: mean((c) => c.activityTasks),
    localActivitiesMean: mean((c) => c.localActivities),
    timersMean: mean((c) => c.timers),
    signalsMean: mean((c) => c.signals),
    updatesMean: mean((c) => c.updates),
    searchAttributeUpsertsMean: mean((c) => c.searchAttributeUpserts),
    memoUpsertsMean: mean((c) => c.memoUpserts),
    changeVersionUpsertsMean: mean((c) => c.changeVersionUpserts),
    actionsByKindMean: Object.fromEntries(kinds.map((k) => [k, mean((c) => c.actionsByKind[k] ?? 0)])),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Nurture episodes

type Episode = 'start' | 'start-continued' | 'start+lapse' | 'touch' | 'touch+continue-as-new' | 'purchase' | 'purchase-tier-up' | 'lapse' | 'other';

function hasActivity(events: HistoryEvent[], name: string): boolean {
  return events.some((e) => e.eventType === ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === name);
}

/**
 * Cuts a nurture run at each wake-up (timer fired, signal) and classifies the pieces. The last piece of a run that is
 * still open counts only when it is complete (ends with the next timer started).
 */
function nurtureEpisodes(events: HistoryEvent[], open: boolean): { kind: Episode; events: HistoryEvent[] }[] {
  const cuts = [0];
  events.forEach((e, i) => {
    if (i <= 1) return; // a signal-with-start's signal belongs to the start
    if (e.eventType === ET.EVENT_TYPE_TIMER_FIRED || e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) cuts.push(i);
  });
  const continued = Boolean(events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId);
  const slices = cuts.map((from, k) => events.slice(from, cuts[k + 1] ?? events.length));
  if (open && slices.at(-1)?.at(-1)?.eventType !== ET.EVENT_TYPE_TIMER_STARTED) slices.pop();
  return slices.map((slice, k) => {
    const first = slice[0] as HistoryEvent;
    const canEnds = slice.some((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    const sends = hasActivity(slice, 'sendMessage');
    let kind: Episode;
    if (k === 0) kind = hasActivity(slice, 'handOff') ? 'start+lapse' : continued ? 'start-continued' : 'start';
    else if (hasActivity(slice, 'handOff')) kind = 'lapse';
    else if (first.eventType === ET.EVENT_TYPE_TIMER_FIRED) kind = sends ? (canEnds ? 'touch+continue-as-new' : 'touch') : 'other';
    else {
      const a = first.workflowExecutionSignaledEventAttributes;
      const event = decodePayload(a?.input?.payloads?.[0]) as { type?: string } | undefined;
      kind = a?.signalName === 'customerEvent' && event?.type === 'purchase' ? (sends ? 'purchase-tier-up' : 'purchase') : 'other';
    }
    return { kind, events: slice };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Running the journeys

async function benchCampaigns(dir: string): Promise<void> {
  await cp(path.join(projectRoot, 'campaigns', 'demo'), dir, { recursive: true });
  const file = path.join(dir, 'nurture.json');
  const nurture = JSON.parse(await readFile(file, 'utf8')) as { touch: { every: string }; maxHistoryEvents: number };
  nurture.touch.every = '6s';
  nurture.maxHistoryEvents = 50;
  await writeFile(file, JSON.stringify(nurture, null, 2));
}

interface Execution {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  events: HistoryEvent[];
  outcome: string;
}

/** The journey's outcome, refined where the path differs (survey answered or not). */
function outcomeOf(type: string, events: HistoryEvent[], status: string): string {
  const last = events.at(-1);
  if (last?.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW) return 'continued-as-new';
  if (status !== 'COMPLETED') return status.toLowerCase();
  const result = decodePayload(last?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]) as
    | { outcome?: string; details?: Record<string, unknown> }
    | undefined;
  const outcome = result?.outcome ?? 'completed';
  if (type === 'complaintWorkflow') return result?.details?.csat === undefined ? 'resolved, csat timeout' : 'resolved, csat answered';
  if (type === 'winbackWorkflow' && outcome === 'churned') return result?.details?.churnReason === 'no-answer' ? 'churned, no answer' : 'churned, answered';
  return outcome;
}

async function collect(client: Client): Promise<Execution[]> {
  const executions: Execution[] = [];
  for await (const info of client.workflow.list()) {
    const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
    const events = history.events ?? [];
    executions.push({
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      status: info.status.name,
      events,
      outcome: outcomeOf(info.type, events, info.status.name),
    });
  }
  return executions;
}

async function openNonNurture(client: Client): Promise<number> {
  let n = 0;
  for await (const info of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    if (info.type !== 'nurtureWorkflow') n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Sizing model

type Figures = Pick<Summary, 'eventsMean' | 'bytesMean' | 'actionsMean' | 'actionsWithHeartbeatsMean' | 'workflowTasksMean' | 'activityTasksMean'>;
const FIELDS = ['eventsMean', 'bytesMean', 'actionsMean', 'actionsWithHeartbeatsMean', 'workflowTasksMean', 'activityTasksMean'] as const;
const zero = (): Figures => ({ eventsMean: 0, bytesMean: 0, actionsMean: 0, actionsWithHeartbeatsMean: 0, workflowTasksMean: 0, activityTasksMean: 0 });

function weighted(parts: [Figures | undefined, number][], fallback: Figures): Figures {
  const out = zero();
  for (const [figures, weight] of parts) for (const f of FIELDS) out[f] += (figures ?? fallback)[f] * weight;
  return out;
}

function sendsOf(s: Summary | undefined): number {
  return s ? s.actionsWithHeartbeatsMean - s.actionsMean : 0; // one heartbeat estimate per send attempt
}

function sizingModel(
  stageByOutcome: Record<string, Record<string, Summary>>,
  perStage: Record<string, Summary>,
  episodes: Record<string, Summary>,
  onboardingStart: Summary,
  dbBytesPerHistoryByte: number | null,
) {
  const ob = stageByOutcome.onboarding ?? {};
  const cpl = stageByOutcome.complaint ?? {};
  const wb = stageByOutcome.winback ?? {};
  const fallback = (stage: string) => perStage[stage] ?? zero();
  const onboarding = weighted([[ob.converted, YEAR.onboardingConvertedShare], [ob.completed, 1 - YEAR.onboardingConvertedShare]], fallback('onboarding'));
  const complaint = weighted(
    [[cpl['resolved, csat answered'], YEAR.complaintCsatAnsweredShare], [cpl['resolved, csat timeout'], 1 - YEAR.complaintCsatAnsweredShare]],
    fallback('complaint'),
  );
  const noAnswer = 1 - YEAR.winbackWonBackShare - YEAR.winbackChurnAnsweredShare;
  const winback = weighted(
    [[wb['won-back'], YEAR.winbackWonBackShare], [wb['churned, answered'], YEAR.winbackChurnAnsweredShare], [wb['churned, no answer'], noAnswer]],
    fallback('winback'),
  );
  const ep = (k: Episode) => episodes[k];
  // Nurture in a year: entries (after onboarding, after a win-back) start a run; touches, purchases; lapses end one.
  const nurtureEntries = YEAR.onboardingPerCustomer + YEAR.winbackPerCustomer * YEAR.winbackWonBackShare;
  const nurtureBase = weighted(
    [[ep('start'), nurtureEntries], [ep('touch'), YEAR.nurtureWakeUps], [ep('purchase'), YEAR.purchases - YEAR.tierUps], [ep('purchase-tier-up'), YEAR.tierUps], [ep('lapse'), YEAR.winbackPerCustomer]],
    zero(),
  );
  // Continue-as-new every nurtureMaxHistoryEvents events: the extra of the continuing touch plus the new run's start.
  const canOverhead = zero();
  for (const f of FIELDS) canOverhead[f] = (ep('touch+continue-as-new')?.[f] ?? 0) - (ep('touch')?.[f] ?? 0) + (ep('start-continued')?.[f] ?? 0);
  const canPerYear = nurtureBase.eventsMean / YEAR.nurtureMaxHistoryEvents;
  const nurture = weighted([[nurtureBase, 1], [canOverhead, canPerYear]], zero());
  const perCustomerYear = weighted(
    [[onboarding, YEAR.onboardingPerCustomer], [nurture, 1], [complaint, YEAR.complaintsPerCustomer], [winback, YEAR.winbackPerCustomer]],
    zero(),
  );
  const sendsPerCustomerYear =
    YEAR.onboardingPerCustomer * sendsOf(perStage.onboarding) +
    YEAR.complaintsPerCustomer * sendsOf(perStage.complaint) +
    YEAR.winbackPerCustomer * sendsOf(perStage.winback) +
    YEAR.nurtureWakeUps * sendsOf(ep('touch')) +
    YEAR.tierUps * sendsOf(ep('purchase-tier-up'));

  // Storage: one open nurture run per customer holding about a year of its history (continue-as-new caps it at
  // nurtureMaxHistoryEvents), the other stages while they are open; closed runs are kept for the retention period. A
  // nurture run closes when it lapses into win-back or continues as new.
  const nurtureBytesAtCap = (nurture.bytesMean / Math.max(1, nurture.eventsMean)) * YEAR.nurtureMaxHistoryEvents;
  const nurtureOpenBytes = Math.min(nurture.bytesMean, (nurture.bytesMean / Math.max(1, nurture.eventsMean)) * YEAR.nurtureMaxHistoryEvents);
  const openBytesPerCustomer =
    nurtureOpenBytes +
    (YEAR.onboardingPerCustomer * onboarding.bytesMean * YEAR.openDays.onboarding) / 365 +
    (YEAR.complaintsPerCustomer * complaint.bytesMean * YEAR.openDays.complaint) / 365 +
    (YEAR.winbackPerCustomer * winback.bytesMean * YEAR.openDays.winback) / 365;
  const closedBytesPerCustomerYear =
    YEAR.onboardingPerCustomer * onboarding.bytesMean +
    YEAR.complaintsPerCustomer * complaint.bytesMean +
    YEAR.winbackPerCustomer * winback.bytesMean +
    (YEAR.winbackPerCustomer + canPerYear) * nurtureOpenBytes;
  const retainedBytesPerCustomer = (closedBytesPerCustomerYear * ASSUME.retentionDays) / 365;

  const scales = [100_000, 1_000_000, 10_000_000].map((customers) => {
    const avg = (perYear: number) => (customers * perYear) / SECONDS_PER_YEAR;
    const launch = (perJourney: number) => (customers * ASSUME.launchShare * perJourney) / ASSUME.launchSeconds;
    const peak = (perYear: number, launchPerJourney: number) => avg(perYear) * ASSUME.dailyPeakFactor + launch(launchPerJourney);
    const actionsPeak = peak(perCustomerYear.actionsWithHeartbeatsMean, onboardingStart.actionsWithHeartbeatsMean);
    const wftPeak = peak(perCustomerYear.workflowTasksMean, onboardingStart.workflowTasksMean);
    const atPeak = peak(perCustomerYear.activityTasksMean, onboardingStart.activityTasksMean);
    const sendsPeak = peak(sendsPerCustomerYear, 1);
    const workers = Math.max(
      ASSUME.minWorkers,
      Math.ceil(wftPeak / ASSUME.workerWorkflowTasksPerSec),
      Math.ceil(atPeak / ASSUME.workerActivityTasksPerSec),
      Math.ceil(sendsPeak / ASSUME.workerSendsPerSec),
    );
    const historyGb = (customers * (openBytesPerCustomer + retainedBytesPerCustomer)) / 1e9;
    return {
      customers,
      stagesPerYear: {
        onboarding: Math.round(customers * YEAR.onboardingPerCustomer),
        nurtureEntries: Math.round(customers * nurtureEntries),
        nurtureTouches: Math.round(customers * YEAR.nurtureWakeUps),
        nurturePurchases: Math.round(customers * YEAR.purchases),
        complaint: Math.round(customers * YEAR.complaintsPerCustomer),
        winback: Math.round(customers * YEAR.winbackPerCustomer),
      },
      actionsPerYear: Math.round(customers * perCustomerYear.actionsWithHeartbeatsMean),
      actionsPerMonth: Math.round((customers * perCustomerYear.actionsWithHeartbeatsMean) / 12),
      actionsPerSecAvg: round(avg(perCustomerYear.actionsWithHeartbeatsMean), 2),
      actionsPerSecPeak: round(actionsPeak, 1),
      workflowTasksPerSecPeak: round(wftPeak, 1),
      activityTasksPerSecPeak: round(atPeak, 1),
      sendsPerSecPeak: round(sendsPeak, 1),
      workers,
      historyEventsPerYear: Math.round(customers * perCustomerYear.eventsMean),
      openHistoryGb: round((customers * openBytesPerCustomer) / 1e9, 2),
      openHistoryGbAtCap: round((customers * nurtureBytesAtCap) / 1e9, 1),
      retainedHistoryGb: round((customers * retainedBytesPerCustomer) / 1e9, 2),
      selfHostedDbGb: dbBytesPerHistoryByte === null ? null : round(historyGb * dbBytesPerHistoryByte, 1),
      cloudActiveStorageGb: round((customers * openBytesPerCustomer) / 1e9, 2),
      cloudRetainedStorageGb: round((customers * retainedBytesPerCustomer) / 1e9, 2),
      cloudApsAboveDefaultLimit: actionsPeak > ASSUME.cloudDefaultApsLimit,
    };
  });
  const r = (f: Figures) => Object.fromEntries(FIELDS.map((k) => [k, round(f[k], 1)]));
  return {
    year: YEAR,
    assume: ASSUME,
    perJourney: { onboarding: r(onboarding), nurtureYear: r(nurture), complaint: r(complaint), winback: r(winback), nurtureContinueAsNew: r(canOverhead) },
    perCustomerYear: { ...r(perCustomerYear), sends: round(sendsPerCustomerYear, 1) },
    onboardingUntilFirstTimer: { actionsWithHeartbeats: onboardingStart.actionsWithHeartbeatsMean, workflowTasks: onboardingStart.workflowTasksMean },
    nurtureContinueAsNewPerCustomerYear: round(canPerYear, 3),
    openHistoryBytesPerCustomer: Math.round(openBytesPerCustomer),
    retainedHistoryBytesPerCustomer: Math.round(retainedBytesPerCustomer),
    dbBytesPerHistoryByte,
    scales,
  };
}

// ---------------------------------------------------------------------------------------------------------------

function table(title: string, rows: [string, Summary][]): string {
  const head = ['', 'n', 'events mean', 'min', 'max', 'bytes mean', 'actions mean', '(+hb)', 'WFT', 'act.tasks', 'LA', 'timers', 'signals', 'SA', 'memo', 'CV'];
  const lines = rows.map(([name, s]) => [
    name,
    s.n,
    s.eventsMean,
    s.eventsMin,
    s.eventsMax,
    s.bytesMean,
    s.actionsMean,
    s.actionsWithHeartbeatsMean,
    s.workflowTasksMean,
    s.activityTasksMean,
    s.localActivitiesMean,
    s.timersMean,
    s.signalsMean,
    s.searchAttributeUpsertsMean,
    s.memoUpsertsMean,
    s.changeVersionUpsertsMean,
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [title, fmt(head), ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-sizing-'));
  const campaignsDir = path.join(dir, 'campaigns');
  await benchCampaigns(campaignsDir);
  const dbFile = path.join(dir, 'temporal.sqlite');

  progress(`run folder ${dir}; starting the Temporal dev server ...`);
  const server = await startDevServer({
    port: await freePort(),
    dbFile,
    namespace: 'default',
    cliPath: process.env.TEMPORAL_CLI_PATH ?? (existsSync(projectCliPath) ? projectCliPath : undefined),
    log: progress,
  });
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    CAMPAIGNS_DIR: campaignsDir,
    DATA_DIR: path.join(dir, 'data'),
    FREQUENCY_CAP_EMAIL: '50',
    FREQUENCY_CAP_SMS: '50',
    HTTP_PORT: String(await freePort()),
  });
  await mkdir(config.dataDir, { recursive: true });
  const t = config.temporal;
  const workerConnection = await connectWorker(t);
  const client = await connectClient(t);
  const { deps, close } = await openActivityDeps(config, client);
  await setupTemporal(client, setupOptionsFor(config, deps.temporal.catalog), progress);
  progress('bundling the workflows and starting the worker ...');
  const worker = await createWorker({ connection: workerConnection, namespace: t.namespace, taskQueue: t.taskQueue, deps, sizing: config.worker });
  const working = worker.run();
  const ctx: TriggerContext = { client, catalog: deps.temporal.catalog, taskQueue: t.taskQueue, store: deps.store };
  const app = await buildApp({ config, ctx });
  await app.listen({ host: config.http.host, port: config.http.port });
  const api = demoApi(config.http.publicBaseUrl, config.http.apiTokens[0]?.secret as string, config.http.supportWebhookSecret);
  await pause(1000);
  const dbBaseline = await fileBytes(dbFile);

  const startedAt = Date.now();
  try {
    for (let r = 1; r <= o.rounds; r++) {
      const run = randomBytes(3).toString('hex');
      progress(`round ${r}/${o.rounds} (customers demo-${run}-*): the demo's story`);
      await runDemoScenario(ctx, config, api, run, (line) => progress(`  ${line}`));
      const id = (name: string) => `demo-${run}-${name}`;
      const ticketId = `S-${run}`;
      await api.support('complaints', { ticketId, customerId: id('alan'), subject: 'Order arrived late' });
      for (const [type, note] of [['first-response', 'Looking into it.'], ['update', 'The carrier found the parcel.'], ['resolved', 'Delivered.']] as const) {
        await pause(700);
        await api.support(`complaints/${ticketId}/events`, { type, note });
      }
      progress(`  ticket ${ticketId} for Alan: first response, an update, resolved; no CSAT answer (its timer runs out)`);
      await api.marketer('POST', `customers/${id('katherine')}/events`, { type: 'purchase', amount: 60, orderId: `o-${run}-k` });
      await api.marketer('POST', `customers/${id('grace')}/events`, { type: 'purchase', amount: 1500, orderId: `o-${run}-g2` });
      progress('  Katherine buys; Grace buys again and reaches gold');
    }
    const settleUntil = Date.now() + o.settle * 1000;
    const deadline = settleUntil + o.maxWait * 1000;
    progress(`letting journeys run: ${o.settle} s, then until only nurture is open (at most ${o.maxWait} s more) ...`);
    for (let i = 0; ; i++) {
      await pause(5000);
      const open = await openNonNurture(client);
      if ((open === 0 && Date.now() > settleUntil) || Date.now() > deadline) {
        progress(`${open} journeys other than nurture still open`);
        break;
      }
      if (i % 3 === 2) progress(`  ${open} journeys other than nurture open`);
    }
  } finally {
    await app.close();
    worker.shutdown();
    await working;
  }
  await pause(1500);
  const dbBytes = await fileBytes(dbFile);

  progress('fetching histories ...');
  const executions = await collect(client);
  const byType = new Map<string, Execution[]>();
  for (const e of executions) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);

  const perType: Record<string, Summary> = {};
  for (const [type, list] of byType) perType[type] = summarize(list.map((e) => count(e.events, true)));
  const perStage: Record<string, Summary> = {};
  const byOutcome: Record<string, Record<string, Summary>> = {};
  for (const [type, stage] of Object.entries(STAGES) as [keyof typeof STAGES, StageName][]) {
    const list = byType.get(type) ?? [];
    perStage[stage] = summarize(list.map((e) => count(e.events, true)));
    const outcomes = new Map<string, Counts[]>();
    for (const e of list) outcomes.set(e.outcome, [...(outcomes.get(e.outcome) ?? []), count(e.events, true)]);
    byOutcome[stage] = Object.fromEntries([...outcomes].map(([k, v]) => [k, summarize(v)]));
  }
  const episodeCounts = new Map<Episode, Counts[]>();
  for (const e of byType.get('nurtureWorkflow') ?? []) {
    for (const ep of nurtureEpisodes(e.events, e.status === 'RUNNING')) episodeCounts.set(ep.kind, [...(episodeCounts.get(ep.kind) ?? []), count(ep.events, ep.kind.startsWith('start'))]);
  }
  const episodes = Object.fromEntries([...episodeCounts].map(([k, v]) => [k, summarize(v)])) as Record<string, Summary>;
  const onboardingStart = summarize(
    (byType.get('onboardingWorkflow') ?? []).map((e) => {
      const firstWake = e.events.findIndex((ev, i) => i > 1 && (ev.eventType === ET.EVENT_TYPE_TIMER_FIRED || ev.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED));
      return count(e.events.slice(0, firstWake < 0 ? e.events.length : firstWake), true);
    }),
  );
  const markerNames = [...new Set(executions.flatMap((e) => e.events.filter((ev) => ev.eventType === ET.EVENT_TYPE_MARKER_RECORDED).map((ev) => ev.markerRecordedEventAttributes?.markerName ?? '?')))];
  const historyBytesTotal = executions.reduce((s, e) => s + count(e.events, true).bytes, 0);
  const dbBytesPerHistoryByte = historyBytesTotal > 0 && dbBytes > dbBaseline ? round((dbBytes - dbBaseline) / historyBytesTotal, 2) : null;

  process.stderr.write(
    '\nmeans per run/episode. (+hb): actions with the heartbeat estimate; WFT: workflow tasks; LA: local activities; SA: search ' +
      'attribute upserts (actions); memo: memo upserts (no action); CV: TemporalChangeVersion-only upserts (no action)\n',
  );
  process.stderr.write(`\n${table('per workflow type (one row per run)', Object.entries(perType))}\n`);
  const outcomeRows = Object.entries(byOutcome).flatMap(([stage, m]) => Object.entries(m).map(([k, s]) => [`${stage}: ${k}`, s] as [string, Summary]));
  process.stderr.write(`\n${table('per stage and outcome', outcomeRows)}\n`);
  process.stderr.write(`\n${table('nurture, per episode (history cut at each wake-up)', Object.entries(episodes))}\n`);
  process.stderr.write(`\n${table('onboarding, up to its first timer', [['start', onboardingStart]])}\n`);
  process.stderr.write(
    `\nmarker names seen: ${markerNames.join(', ') || 'none'}; dev server SQLite grew ${dbBytes - dbBaseline} bytes for ${historyBytesTotal} history bytes` +
      ` (${dbBytesPerHistoryByte ?? 'n/a'} per history byte); load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );

  const sizing = sizingModel(byOutcome, perStage, episodes, onboardingStart, dbBytesPerHistoryByte);
  process.stderr.write('\nsizing (see YEAR and ASSUME in bench/sizing.ts):\n');
  for (const s of sizing.scales) {
    process.stderr.write(
      `  ${String(s.customers).padStart(9)} customers: ${s.actionsPerYear} actions/yr, ${s.actionsPerSecAvg} APS avg, ${s.actionsPerSecPeak} peak, ` +
        `${s.workers} workers, history ${s.openHistoryGb} GB open + ${s.retainedHistoryGb} GB retained, self-hosted DB ~${s.selfHostedDbGb} GB\n`,
    );
  }

  const pick = (s: Summary | undefined) =>
    s && {
      journeys: s.n,
      eventsMean: s.eventsMean,
      eventsMin: s.eventsMin,
      eventsMax: s.eventsMax,
      bytesMean: s.bytesMean,
      actionsMean: s.actionsMean,
      actionsWithHeartbeatsMean: s.actionsWithHeartbeatsMean,
      workflowTasksMean: s.workflowTasksMean,
      activityTasksMean: s.activityTasksMean,
      actionsByKindMean: s.actionsByKindMean,
    };
  const short = (s: Summary) => ({ n: s.n, eventsMean: s.eventsMean, eventsMax: s.eventsMax, bytesMean: s.bytesMean, actionsMean: s.actionsMean, actionsWithHeartbeatsMean: s.actionsWithHeartbeatsMean, workflowTasksMean: s.workflowTasksMean, activityTasksMean: s.activityTasksMean });
  const result = {
    perStage: Object.fromEntries(Object.entries(perStage).map(([k, s]) => [k, pick(s)])),
    byOutcome: Object.fromEntries(Object.entries(byOutcome).map(([stage, m]) => [stage, Object.fromEntries(Object.entries(m).map(([k, s]) => [k, short(s)]))])),
    nurtureEpisodes: Object.fromEntries(Object.entries(episodes).map(([k, s]) => [k, short(s)])),
    otherWorkflowTypes: Object.fromEntries(Object.entries(perType).filter(([k]) => !(k in STAGES)).map(([k, s]) => [k, short(s)])),
    onboardingUntilFirstTimer: short(onboardingStart),
    sizing,
    run: {
      rounds: o.rounds,
      executions: executions.length,
      seconds: round((Date.now() - startedAt) / 1000),
      markerNames,
      loadAverage: os.loadavg().map((l) => round(l, 2)),
      devServerDbGrowthBytes: dbBytes - dbBaseline,
      historyBytesTotal,
    },
    method:
      'Demo story (src/dev/demo-scenario.ts) x rounds on the Temporal dev server with the real worker and HTTP API, plus per round a complaint ' +
      'with two updates and a CSAT timeout and two purchases; campaigns/demo with nurture touch 6s and maxHistoryEvents 50. Every execution\'s ' +
      'history fetched; events = history length, bytes = History.encode(history) length, workflowTasks = WorkflowTaskCompleted, activityTasks = ' +
      'activity attempts. Actions by https://docs.temporal.io/cloud/actions: start (schedule start +2, signal-with-start 1 in all), ' +
      'activity scheduled + retries, local activities 1 per workflow task with markers, timer started, signal, update accepted, search ' +
      'attribute upsert (not TemporalChangeVersion-only), child start 2; memo upserts and queries not counted; actionsWithHeartbeats adds 1 ' +
      'heartbeat per sendMessage attempt. Nurture is per run (continue-as-new every ~50 events here) and per episode (cut at timer fired / signal).',
  };

  await close();
  await client.connection.close();
  await workerConnection.close();
  await server.stop();
  if (!o.keep) await rm(dir, { recursive: true, force: true });
  else progress(`kept ${dir}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:sizing failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
