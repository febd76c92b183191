import { stat } from 'node:fs/promises';
import { Argument, type Command } from 'commander';
import { UserFacingError } from '../../cli-errors';
import type { Stage } from '../../shared/campaign-definition';
import { bulkStart, DEFAULT_CONCURRENCY, defaultRejectsFile, type BulkStartSummary } from '../bulk-start';
import { countDataLines, SEGMENT_COLUMNS } from '../csv-segment';
import { cancelJourney, listCustomerJourneys, startCustomerJourney, type JourneySummary } from '../journeys';
import { printLine, withClient, withTriggerContext, type CliOutput, type CliRun } from './io';
import { positiveInteger } from './options';
import { progressReporter } from './progress';

/** Complaint journeys start per support ticket: `retention complaint open`. */
const STARTABLE_STAGES: Stage[] = ['onboarding', 'nurture', 'winback'];
const INTERRUPTED_EXIT_CODE = 130;

interface StartOptions {
  campaign?: string;
  csv?: string;
  concurrency: number;
  rejects?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerJourneyCommands(program: Command, run: CliRun): void {
  program
    .command('start')
    .description('start a lifecycle stage for one customer, or for every customer in a CSV segment (safe to repeat: nothing starts twice)')
    .addArgument(new Argument('<stage>', 'lifecycle stage to start').choices(STARTABLE_STAGES))
    .argument('[customerId]', 'the customer to start it for (omit when using --csv)')
    .option('--campaign <id>', "campaign id (default: the stage's default campaign, <CAMPAIGNS_DIR>/<stage>.json)")
    .option('--csv <file>', `start for every row of a CSV segment with a header: ${SEGMENT_COLUMNS.join(', ')} (only customer_id is required)`)
    .option('--concurrency <n>', 'with --csv: journeys being started at once', positiveInteger(1000), DEFAULT_CONCURRENCY)
    .option('--rejects <file>', 'with --csv: where rejected rows are written with line number and reasons (default: <file>.rejects.csv)')
    .option('--dry-run', 'with --csv: validate every row and check the customers exist, start nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Rows with profile values (name, email, ...) add or update the customer first; rows with only customer_id need a
customer the store already knows. Ctrl-C stops reading the file, lets the starts in flight finish and prints the
summary; run the same command again to start the rest. Complaint journeys start per ticket: see \`retention complaint open\`.`,
    )
    .action(async (stage: Stage, customerId: string | undefined, opts: StartOptions) => {
      if (opts.csv && customerId) throw new UserFacingError('give either <customerId> or --csv <file>, not both');
      if (opts.csv) return startFromCsv(run, stage, opts.csv, opts);
      if (!customerId) throw new UserFacingError('missing <customerId> (or --csv <file> to start a whole segment)');
      if (opts.dryRun || opts.rejects) throw new UserFacingError('--dry-run and --rejects apply to --csv starts only');
      await withTriggerContext(run.io, async (ctx) => {
        const result = await startCustomerJourney(ctx, { stage, customerId, campaignId: opts.campaign });
        if (opts.json) printLine(run.io.stdout, JSON.stringify(result));
        else if (result.started) printLine(run.io.stdout, `started ${result.workflowId} (run ${result.runId})`);
        else printLine(run.io.stdout, `already running: ${result.workflowId} (run ${result.runId}); nothing new started`);
      });
    });

  program
    .command('status')
    .description("a customer's journeys, newest first: stage, campaign, status, current step, next action, messages sent")
    .argument('<customerId>', 'the customer')
    .option('--limit <n>', 'at most this many journeys', positiveInteger(1000), 50)
    .option('--json', 'print the journeys as JSON')
    .addHelpText('after', '\nRead from Temporal visibility, which trails a start by a moment: a journey started just now may be missing.')
    .action(async (customerId: string, opts: { limit: number; json?: boolean }) => {
      await withClient(run.io, async (client) => {
        const journeys = await listCustomerJourneys(client, customerId, opts.limit);
        if (opts.json) printLine(run.io.stdout, JSON.stringify(journeys, null, 2));
        else if (journeys.length === 0) printLine(run.io.stdout, `no journeys for customer ${customerId}`);
        else printLine(run.io.stdout, journeyTable(journeys));
      });
    });

  program
    .command('cancel')
    .description('cancel a running journey (the workflow records how it ended)')
    .argument('<workflowId>', 'the journey, e.g. onboarding-cust-42 or complaint-T-1001 (see `retention status`)')
    .action(async (workflowId: string) => {
      await withClient(run.io, async (client) => {
        const result = await cancelJourney(client, workflowId);
        printLine(run.io.stdout, `cancellation requested for ${result.workflowId}`);
      });
    });
}

async function startFromCsv(run: CliRun, stage: Stage, file: string, opts: StartOptions): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch (err) {
    throw new UserFacingError(`--csv: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { io } = run;
  const sigint = io.interrupt ? undefined : listenForCtrlC(io.stderr);
  try {
    const summary = await withTriggerContext(io, async (ctx) => {
      const progress = progressReporter(io.stderr, await countDataLines(file));
      try {
        return await bulkStart(ctx, {
          stage,
          campaignId: opts.campaign,
          file,
          rejectsFile: opts.rejects ?? defaultRejectsFile(file),
          concurrency: opts.concurrency,
          dryRun: opts.dryRun,
          signal: io.interrupt ?? sigint?.signal,
          onProgress: (p) => progress.update(p),
        });
      } finally {
        progress.stop();
      }
    });
    printSummary(io.stdout, summary, opts.json ?? false);
    if (summary.interrupted) run.exitCode = INTERRUPTED_EXIT_CODE;
    else if (summary.failed > 0) run.exitCode = 1;
  } finally {
    sigint?.dispose();
  }
}

/** First Ctrl-C: stop reading and let starts in flight finish. Second: quit at once. */
function listenForCtrlC(stderr: CliOutput): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    stderr.write('\nstopping: no new starts; waiting for the ones in flight (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

function printSummary(out: CliOutput, s: BulkStartSummary, json: boolean): void {
  if (json) {
    printLine(out, JSON.stringify(s));
    return;
  }
  const seconds = s.elapsedMs / 1000;
  const rate = s.processed / Math.max(seconds, 0.001);
  const counts = s.dryRun
    ? `valid ${s.valid}, rejected ${s.rejected}, failed ${s.failed}`
    : `started ${s.started}, already running ${s.alreadyRunning}, already ran (conflict) ${s.alreadyRan}, rejected ${s.rejected}, failed ${s.failed}`;
  printLine(out, `${s.dryRun ? 'dry run: ' : ''}${counts} (${s.processed} rows in ${seconds.toFixed(1)}s, ${rate.toFixed(0)} rows/s)`);
  if (s.rejected + s.failed > 0) printLine(out, `rejected rows with reasons: ${s.rejectsFile}`);
  if (s.failed > 0) printLine(out, 'failed rows could not be started (Temporal or database trouble): run the same command again to retry them');
  if (s.interrupted) printLine(out, 'interrupted: the rest of the file was not read; run the same command again to continue (nothing starts twice)');
}

function journeyTable(journeys: JourneySummary[]): string {
  const rows = journeys.map((j) => [
    j.workflowId,
    j.stage ?? j.type,
    j.campaignId ?? '',
    j.status,
    j.state?.currentStep ?? '',
    j.state?.nextActionAt ? new Date(j.state.nextActionAt).toISOString() : '',
    j.state ? String(j.state.messagesSent) : '',
    j.state?.outcome ?? '',
    j.startedAt,
  ]);
  const header = ['WORKFLOW', 'STAGE', 'CAMPAIGN', 'STATUS', 'STEP', 'NEXT ACTION', 'SENT', 'OUTCOME', 'STARTED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
