import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { expectedOnboarding, readCampaign, type ChaosCustomer, type ExpectedMessage, type OnboardingCampaign } from './campaigns';
import { importCustomers, makeCustomers, startOnboarding } from './customers';
import { closedWorkflowCount, journeyState, runningWorkflowIds } from './journeys';
import { Keeper } from '../../src/dev/keeper';
import { isQuietAt, quietEndsAt, splitZones } from './quiet-hours';
import { listed, resultFromTally, type RunContext, type ScenarioResult } from './result';
import { startFleetStack } from './fleet-stack';
import { startStack, type InDoubtPolicy, type Stack } from './stack';
import { heldSends, ledgerStatusCounts } from './store-read';
import { tally, type InDoubtWindow } from './tally';
import { startTemporal, type TemporalServer } from './temporal';
import { errorText, mapBounded, progress, sleep, waitUntil } from './util';

/** Around an instant fault (a SIGKILL), how far either way a provider may have accepted what its sender never heard of. */
export const IN_DOUBT_MARGIN_MS = 2000;

export interface FaultContext {
  stack: Stack;
  temporal: TemporalServer;
  /** Restarts the worker when it dies (not in a fleet: there the other worker carries on). */
  keeper?: Keeper;
  /** What the campaign says must arrive. */
  expected: ExpectedMessage[];
  /** Messages the fakes accepted so far (email + SMS). */
  received(): number;
  /** Waits until `fraction` of the expected messages arrived; false when `timeoutMs` passed first. */
  whenReceived(fraction: number, timeoutMs?: number): Promise<boolean>;
  /** Marks [from, to] (default: from ± margin) as a time in which a send may have gone out unrecorded. */
  openWindow(cause: string, from: number, to?: number): void;
  note(line: string): void;
}

export interface BurstOptions {
  name: string;
  /** How many onboarding journeys (default: the run's --journeys). */
  journeys?: number;
  /** From the start of the burst to the count, at most. */
  deadlineMs: number;
  emailInDoubt?: InDoubtPolicy;
  /** The store's DATABASE_URL (default: a fresh SQLite file). */
  databaseUrl?: string;
  /** A dev server shared with another burst (left running); default: a fresh one for this burst. */
  temporal?: TemporalServer;
  /** Run on the production topology (src/dev/fleet.ts: PostgreSQL-backed Temporal server, two workers, two APIs). */
  fleet?: boolean;
  /** Injects the scenario's fault while the journeys run; bounded in time by itself. */
  fault(f: FaultContext): Promise<void>;
}

/**
 * Waits until every journey outside quiet hours has closed and every journey inside them is asleep until they end
 * (or has closed), or until the deadline. Returns what was still unsettled.
 */
async function waitForOnboarding(temporal: TemporalServer, stack: Stack, customers: ChaosCustomer[], deadline: number): Promise<string[]> {
  const quietIds = new Set(customers.filter((c) => c.quiet).map((c) => `onboarding-${c.id}`));
  const openCount = customers.length - quietIds.size;
  const settledQuiet = new Set<string>();
  let unsettled: string[] = ['(not checked yet)'];
  const describe = (openRunning: string[], closed: number) => {
    const quietLeft = [...quietIds].filter((id) => !settledQuiet.has(id));
    // While others run, the quiet ones are not asked yet: say how many, not which.
    unsettled = openRunning.length > 0 ? [...openRunning, ...(quietLeft.length > 0 ? [`(${quietLeft.length} in quiet hours, not checked yet)`] : [])] : quietLeft;
    if (closed < openCount && openRunning.length === 0) unsettled.push(`(${openCount - closed} journeys not yet seen closed)`);
  };
  await waitUntil(
    async () => {
      const closed = await closedWorkflowCount(temporal, stack.taskQueue, 'onboardingWorkflow');
      const running = await runningWorkflowIds(temporal, stack.taskQueue, 'onboardingWorkflow');
      const openRunning = [...running].filter((id) => !quietIds.has(id));
      for (const id of quietIds) if (!running.has(id) && closed >= openCount) settledQuiet.add(id);
      describe(openRunning, closed);
      // Asking journeys for their state costs a workflow task each: only once the others are done.
      if (openRunning.length > 0) return false;
      const pending = [...quietIds].filter((id) => !settledQuiet.has(id) && running.has(id));
      await mapBounded(pending, 8, async (id) => {
        const state = await journeyState(temporal, id);
        if (state?.details.waitingForQuietHoursUntil !== undefined) settledQuiet.add(id);
      });
      describe(openRunning, closed);
      return unsettled.length === 0;
    },
    Math.max(deadline - Date.now(), 0),
    2000,
  );
  return unsettled;
}

/**
 * Quiet customers' journeys should sleep until the first minute their zone leaves quiet hours. One that plans to send
 * inside quiet hours is a violation already (it would be one when its timer fires).
 */
async function checkQuietHolds(
  temporal: TemporalServer,
  customers: ChaosCustomer[],
  campaign: OnboardingCampaign,
): Promise<{ notes: string[]; violations: string[] }> {
  const quiet = campaign.quietHours;
  if (!quiet) return { notes: [], violations: [] };
  const wrong: string[] = [];
  const violations: string[] = [];
  let held = 0;
  await mapBounded(
    customers.filter((x) => x.quiet),
    8,
    async (c) => {
      let state = await journeyState(temporal, `onboarding-${c.id}`);
      if (!state) {
        await sleep(1000);
        state = await journeyState(temporal, `onboarding-${c.id}`);
      }
      const until = state?.details.waitingForQuietHoursUntil;
      if (typeof until !== 'number') {
        wrong.push(`${c.id} (${c.timezone}): not waiting for quiet hours (${state ? `step ${state.currentStep}, outcome ${state.outcome}` : 'no answer to the state query'})`);
        return;
      }
      const expected = quietEndsAt(Date.now(), c.timezone, quiet);
      if (isQuietAt(until, c.timezone, quiet)) {
        violations.push(`onboarding-${c.id} plans its SMS for ${new Date(until).toISOString()}, inside quiet hours in ${c.timezone}`);
      }
      if (Math.abs(until - expected) > 61_000) {
        wrong.push(`${c.id} (${c.timezone}): waits until ${new Date(until).toISOString()}, quiet hours end ${new Date(expected).toISOString()}`);
      } else held++;
    },
  );
  return { notes: [`${held} journeys in quiet hours wait for their end (SMS step held)`, ...listed('quiet-hour holds wrong', wrong)], violations };
}

/** Prefix of a scenario's customer ids: short, unique per scenario. */
export function customerPrefix(name: string): string {
  return name.replace(/[^a-z0-9]/g, '').slice(0, 8);
}

/**
 * The common shape of the onboarding scenarios: a fresh Temporal dev server, store, fakes, worker and API; a burst of
 * onboarding journeys started through the API; the scenario's fault; a wait until every journey is done (or the
 * deadline); then the count of what the fakes received against what the campaign says.
 */
export async function runBurst(ctx: RunContext, options: BurstOptions): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const dir = path.join(ctx.runDir, options.name);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const deadlineMs = ctx.deadlineMs ?? options.deadlineMs;
  const ownServer = options.temporal === undefined && !options.fleet;
  let temporal = options.temporal ?? (options.fleet ? undefined : await startTemporal(dir, logDir));
  let stack: Stack | undefined;
  let keeper: Keeper | undefined;
  try {
    stack = temporal
      ? await startStack({
          name: options.name,
          runDir: ctx.runDir,
          templatesDir: ctx.templatesDir,
          temporal,
          databaseUrl: options.databaseUrl,
          emailInDoubt: options.emailInDoubt,
        })
      : await startFleetStack({ name: options.name, runDir: ctx.runDir, templatesDir: ctx.templatesDir });
    temporal = stack.temporal;
    if (!options.fleet) keeper = new Keeper(stack.worker, progress);
    const campaign = readCampaign<OnboardingCampaign>('onboarding');
    const zones = splitZones(Date.now(), deadlineMs + 5 * 60_000, campaign.quietHours ?? { start: 0, end: 0 });
    const customers = makeCustomers(customerPrefix(options.name), options.journeys ?? ctx.journeys, zones, { quietEvery: 5, smsEvery: 0 });
    await importCustomers(stack.client, customers);
    const expected: ExpectedMessage[] = expectedOnboarding(campaign, customers);
    const windows: InDoubtWindow[] = [];
    const notes: string[] = [];
    const received = () => (stack as Stack).world.smtp.records().length + (stack as Stack).world.twilio.records().length;

    const burstAt = Date.now();
    await startOnboarding(stack.client, customers);
    progress(`${options.name}: ${customers.length} journeys started in ${((Date.now() - burstAt) / 1000).toFixed(1)} s, ${expected.length} messages expected`);
    const faultContext: FaultContext = {
      stack,
      temporal,
      keeper,
      expected,
      received,
      whenReceived: (fraction, timeoutMs = 120_000) => waitUntil(() => received() >= fraction * expected.length, timeoutMs, 250),
      openWindow: (cause, from, to) => windows.push({ cause, from: from - IN_DOUBT_MARGIN_MS, to: (to ?? from) + IN_DOUBT_MARGIN_MS }),
      note: (line) => notes.push(line),
    };
    try {
      await options.fault(faultContext);
    } catch (err) {
      notes.push(`fault injection failed: ${errorText(err)}`);
    }
    for (const at of stack.workers.flatMap((w) => w.kills)) {
      if (!windows.some((w) => w.from <= at && at <= w.to)) faultContext.openWindow('worker SIGKILL', at);
    }
    for (const r of [...stack.world.smtp.records(), ...stack.world.twilio.records()]) {
      if (r.killedPid !== undefined) faultContext.openWindow(`worker killed by the fake on receipt of ${r.channel}`, Date.parse(r.at));
    }

    const unsettled = await waitForOnboarding(temporal, stack, customers, burstAt + deadlineMs);
    await sleep(3000);
    const running = await runningWorkflowIds(temporal, stack.taskQueue, 'onboardingWorkflow').catch(() => new Set<string>());
    const stillRunning = new Set(customers.filter((c) => !c.quiet && running.has(`onboarding-${c.id}`)).map((c) => c.id));
    if (unsettled.length > 0) notes.push(...listed(`deadline (${Math.round(deadlineMs / 1000)} s) reached with journeys unsettled (${unsettled.length})`, unsettled));
    const holds = await checkQuietHolds(temporal, customers, campaign);
    notes.push(...holds.notes);
    const result = tally({
      customers,
      expected,
      email: stack.world.smtp.records(),
      sms: stack.world.twilio.records(),
      quietHours: { onboarding: campaign.quietHours },
      policy: stack.emailInDoubt,
      windows,
      held: stack.emailInDoubt === 'hold' ? await heldSends(stack.databaseUrl) : undefined,
      stillRunning,
    });
    result.quietHourViolations += holds.violations.length;
    result.quietViolations.push(...holds.violations);
    notes.push(`${keeper?.describe() ?? `workers: ${stack.workers.map((w) => `${w.name} ${w.kills.length} kills`).join(', ')}`}; ledger: ${JSON.stringify(await ledgerStatusCounts(stack.databaseUrl))}`);
    return resultFromTally(options.name, result, startedAt, notes);
  } finally {
    await keeper?.stop();
    await stack?.stop();
    if (ownServer) await temporal?.stop();
  }
}
