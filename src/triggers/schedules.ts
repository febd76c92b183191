import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions, type ScheduleSummary } from '@temporalio/client';
import { z } from 'zod';
import { campaignFor, type CampaignCatalog } from '../campaigns/catalog';
import { WINBACK_SWEEP_WORKFLOW, type WinbackSweepInput } from '../shared/sweep-contracts';
import { ConflictError, NotFoundError, parseInput } from './errors';

/*
 * The recurring triggers Temporal runs for us. Only the win-back sweep needs one: customers who are in nurture are
 * handed to win-back by nurture itself once they pass its inactivity threshold, and nurture owns anniversaries (a
 * timer per customer), so there is no anniversary schedule. The sweep catches the lapsed customers no journey is
 * watching (imported customers, finished onboarding/complaint journeys, nurture journeys that ended).
 */

export const WINBACK_SWEEP_SCHEDULE_ID = 'winback-sweep-daily';
/** Schedules append the trigger time to this id: `winback-sweep-2026-11-25T06:00:00Z`. */
export const WINBACK_SWEEP_WORKFLOW_ID = 'winback-sweep';

const EnsureSchedulesOptionsSchema = z.object({
  taskQueue: z.string().min(1),
  /** Hour of the day (in `timezone`) at which the sweep runs. */
  sweepHour: z.number().int().min(0).max(23).default(6),
  timezone: z.string().min(1).default('UTC'),
  /** Paging/concurrency of the sweep (the threshold comes from the win-back campaign). */
  sweep: z
    .object({
      pageSize: z.number().int().min(1).max(1000).optional(),
      pagesPerRun: z.number().int().min(1).max(500).optional(),
      concurrency: z.number().int().min(1).max(100).optional(),
    })
    .default({}),
});

export type EnsureSchedulesOptions = z.input<typeof EnsureSchedulesOptionsSchema> & { catalog: CampaignCatalog };

export interface EnsuredSchedule {
  scheduleId: string;
  action: 'created' | 'updated';
  /** One line for logs: what runs when. */
  description: string;
}

/** The desired `winback-sweep-daily` schedule; the threshold is the default win-back campaign's `inactiveDays`. */
export function winbackSweepSchedule(options: EnsureSchedulesOptions): ScheduleOptions {
  const { taskQueue, sweepHour, timezone, sweep } = parseInput(EnsureSchedulesOptionsSchema, options, 'schedule options');
  const winback = campaignFor(options.catalog, 'winback').definition;
  if (winback.stage !== 'winback') throw new Error(`campaign ${winback.id} is not a win-back campaign`);
  const args: [WinbackSweepInput] = [{ inactiveDays: winback.inactiveDays, ...sweep }];
  const description =
    `daily at ${String(sweepHour).padStart(2, '0')}:00 ${timezone}: start win-back (${winback.id}) for customers ` +
    `inactive more than ${winback.inactiveDays} days who are not already in it`;
  return {
    scheduleId: WINBACK_SWEEP_SCHEDULE_ID,
    spec: { calendars: [{ hour: sweepHour, minute: 0, second: 0, comment: 'daily win-back sweep' }], timezone },
    action: { type: 'startWorkflow', workflowType: WINBACK_SWEEP_WORKFLOW, workflowId: WINBACK_SWEEP_WORKFLOW_ID, taskQueue, args },
    // A sweep still running when the next one is due makes the next one redundant; after an outage one missed
    // sweep within a day is caught up (each sweep covers everything lapsed by then, so older ones add nothing).
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    // The memo cannot be changed by an update: it says what the schedule is for, the note says what it does now.
    memo: { summary: 'daily win-back sweep: starts win-back for lapsed customers not already in it' },
    state: { note: description },
  };
}

/**
 * Creates the product's schedules, or brings existing ones to the desired spec and action (run at every worker
 * start, so a deploy with a changed campaign threshold or task queue updates them). An operator's pause is kept.
 */
export async function ensureSchedules(client: Client, options: EnsureSchedulesOptions): Promise<EnsuredSchedule[]> {
  const desired = winbackSweepSchedule(options);
  const description = desired.state?.note ?? '';
  try {
    await client.schedule.create(desired);
    return [{ scheduleId: desired.scheduleId, action: 'created', description }];
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(desired.scheduleId).update((previous) => ({
    spec: desired.spec,
    action: desired.action,
    policies: desired.policies,
    state: { paused: previous.state.paused, note: description },
  }));
  return [{ scheduleId: desired.scheduleId, action: 'updated', description }];
}

export interface ScheduleListing {
  scheduleId: string;
  workflowType?: string;
  paused: boolean;
  note?: string;
  nextActionTimes: string[];
  recentActions: { workflowId: string; scheduledAt: string; takenAt: string }[];
}

function listing(s: ScheduleSummary): ScheduleListing {
  return {
    scheduleId: s.scheduleId,
    workflowType: s.action?.workflowType,
    paused: s.state.paused,
    note: s.state.note,
    nextActionTimes: s.info.nextActionTimes.map((d) => d.toISOString()),
    recentActions: s.info.recentActions.map((a) => ({
      workflowId: a.action.workflow.workflowId,
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
    })),
  };
}

/** Every schedule in the namespace (from visibility: one created a moment ago may be missing for a moment). */
export async function listSchedules(client: Client): Promise<ScheduleListing[]> {
  const schedules: ScheduleListing[] = [];
  for await (const summary of client.schedule.list()) schedules.push(listing(summary));
  return schedules.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a schedule's action now. Refuses while an earlier run of it is still going (the schedule's overlap policy
 * would skip it silently); returns the started workflow's id once the schedule reports it (within `waitMs`).
 */
export async function triggerSchedule(client: Client, scheduleId: string, waitMs = 10_000): Promise<{ scheduleId: string; workflowId?: string }> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const before = await handle.describe();
    const running = before.info.runningActions.map((a) => a.workflow.workflowId);
    if (running.length > 0) throw new ConflictError(`schedule ${scheduleId} is still running ${running.join(', ')}; wait for it to finish`);
    await handle.trigger();
    const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(100)) {
      const fresh = (await handle.describe()).info.recentActions.find((a) => !seen.has(a.action.workflow.workflowId));
      if (fresh) return { scheduleId, workflowId: fresh.action.workflow.workflowId };
    }
    return { scheduleId };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError(`no schedule ${scheduleId} (run \`retention schedules ensure\`)`);
    throw err;
  }
}
