import { ApplicationFailure, continueAsNew, log, proxyActivities, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import {
  MAX_REPORTED_FAILURES,
  sweepProgressQuery,
  winbackSweepOptionsSchema,
  type SweepActivities,
  type SweepProgress,
  type WinbackSweepInput,
} from '../shared/sweep-contracts';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const { winbackInactiveDays, listLapsedCustomers } = proxyActivities<SweepActivities>({ startToCloseTimeout: '1 minute', retry });
// A page of starts can take a while; the activity heartbeats per customer, so a lost worker is noticed quickly.
const { startWinbacks } = proxyActivities<SweepActivities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '1 minute', retry });

const DAY_MS = 86_400_000;

/**
 * The daily win-back sweep (started by the `winback-sweep-daily` schedule): pages through customers whose last
 * activity is older than the win-back threshold, in id order, and starts win-back for those not already in it.
 * The cutoff is taken from workflow time once (the schedule's trigger time) and carried, with the cursor and the
 * totals, when the sweep continues as new every `pagesPerRun` pages. Query `sweepProgress` for the running totals.
 */
export async function winbackSweepWorkflow(input: WinbackSweepInput = {}): Promise<SweepProgress> {
  const parsed = winbackSweepOptionsSchema().safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    throw ApplicationFailure.nonRetryable(`invalid sweep input: ${problems.join('; ')}`, 'InvalidSweepInput');
  }
  const options = parsed.data;
  const progress = input.carried ?? (await freshProgress(options.inactiveDays));
  setHandler(sweepProgressQuery, () => progress);

  for (let pagesThisRun = 0; !progress.done; pagesThisRun++) {
    if (pagesThisRun >= options.pagesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof winbackSweepWorkflow>({ ...input, carried: { ...progress, continuedAsNew: progress.continuedAsNew + 1 } });
    }
    const page = await listLapsedCustomers({ before: progress.cutoff, afterId: progress.afterId, limit: options.pageSize });
    if (page.customers.length > 0) {
      const counts = await startWinbacks({ customers: page.customers, concurrency: options.concurrency });
      progress.started += counts.started;
      progress.alreadyRunning += counts.alreadyRunning;
      progress.alreadyRan += counts.alreadyRan;
      progress.failed += counts.failed;
      progress.failures.push(...counts.failures.slice(0, MAX_REPORTED_FAILURES - progress.failures.length));
      progress.customersSeen += page.customers.length;
      progress.afterId = page.customers.at(-1)?.id;
    }
    progress.pages++;
    progress.done = page.nextAfterId === undefined;
  }

  const summary =
    `win-back sweep (inactive > ${progress.inactiveDays} days, before ${new Date(progress.cutoff).toISOString()}): ` +
    `${progress.customersSeen} lapsed, ${progress.started} started, ${progress.alreadyRunning} already running, ` +
    `${progress.alreadyRan} already ran, ${progress.failed} failed`;
  upsertMemo({ summary });
  log.info(summary);
  return progress;
}

async function freshProgress(inactiveDays: number | undefined): Promise<SweepProgress> {
  const startedAt = Date.now(); // workflow time: when the schedule fired, before any activity ran
  const days = inactiveDays ?? (await winbackInactiveDays());
  return {
    inactiveDays: days,
    cutoff: startedAt - days * DAY_MS,
    startedAt,
    pages: 0,
    customersSeen: 0,
    started: 0,
    alreadyRunning: 0,
    alreadyRan: 0,
    failed: 0,
    failures: [],
    continuedAsNew: 0,
    done: false,
  };
}
