import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { projectRoot } from '../../src/dev/paths';
import { killAllNow } from '../../src/dev/supervisor';
import { failedResult, type ScenarioResult } from './result';
import { SCENARIOS } from './scenarios';
import { writeChaosTemplates } from './templates';
import { errorText, mapBounded, progress, setVerbose } from './util';

interface Options {
  scenarios?: string[];
  journeys: number;
  parallel: number;
  deadline?: number;
  maxMinutes: number;
  keep: boolean;
  list: boolean;
  quiet: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function scenarioList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return names;
}

function summary(results: ScenarioResult[]) {
  const sum = (key: 'duplicates' | 'missing' | 'quietHourViolations' | 'unexpected') => results.reduce((n, r) => n + r[key], 0);
  return {
    scenarios: results,
    duplicates: sum('duplicates'),
    missing: sum('missing'),
    quietHourViolations: sum('quietHourViolations'),
    unexpected: sum('unexpected'),
    errors: results.filter((r) => r.error !== undefined).length,
  };
}

function line(r: ScenarioResult): string {
  return (
    `${r.name}: expected ${r.expected}, delivered ${r.delivered}, duplicates ${r.duplicates}, missing ${r.missing}` +
    `${r.unfinished > 0 ? ` (${r.unfinished} of journeys still running)` : ''}, ` +
    `inDoubt ${r.inDoubt}, quiet-hour violations ${r.quietHourViolations}, unexpected ${r.unexpected} (${r.seconds} s)` +
    (r.error ? ` ERROR ${r.error.split('\n')[0]}` : '')
  );
}

async function main(options: Options): Promise<number> {
  if (options.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
    return 0;
  }
  setVerbose(!options.quiet);
  const chosen = options.scenarios ? SCENARIOS.filter((s) => options.scenarios?.includes(s.name)) : SCENARIOS;
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'retention-chaos-'));
  // Per scenario, in the listed order whatever order they finish in.
  const produced: ScenarioResult[][] = chosen.map(() => []);
  const results = () => produced.flat();
  const finish = (code: number) => {
    const report = summary(results());
    const failed = code !== 0 || report.duplicates + report.missing + report.quietHourViolations + report.unexpected + report.errors > 0;
    process.stdout.write(`${JSON.stringify({ ...report, logs: failed || options.keep ? runDir : undefined })}\n`);
    return failed ? 1 : 0;
  };
  const watchdog = setTimeout(() => {
    progress(`the run passed --max-minutes ${options.maxMinutes}: killing every process it started`);
    killAllNow();
    finish(2);
    process.exit(2);
  }, options.maxMinutes * 60_000);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (the tsx CLI relays the one the terminal sent) must not cut the cleanup short.
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      progress(`${signal}: killing every process the run started`);
      killAllNow();
      finish(130);
      process.exit(130);
    });
  }

  progress(
    `run folder ${runDir}; scenarios ${chosen.map((s) => s.name).join(', ')}; ${options.journeys} journeys; ${options.parallel} at a time`,
  );
  const templatesDir = await writeChaosTemplates(projectRoot, runDir);
  const deadlineMs = options.deadline === undefined ? undefined : options.deadline * 1000;
  await mapBounded(chosen, options.parallel, async (scenario, index) => {
    const startedAt = Date.now();
    progress(`${scenario.name}: ${scenario.description}`);
    let out: ScenarioResult[];
    try {
      const result = await scenario.run({ runDir, templatesDir, journeys: options.journeys, deadlineMs });
      out = Array.isArray(result) ? result : [result];
    } catch (err) {
      out = [failedResult(scenario.name, startedAt, errorText(err))];
    }
    produced[index] = out;
    for (const r of out) progress(line(r), true);
  });
  clearTimeout(watchdog);
  const code = finish(0);
  if (code === 0 && !options.keep) await rm(runDir, { recursive: true, force: true });
  return code;
}

const program = new Command()
  .name('chaos')
  .description(
    'Real processes (Temporal dev server, worker, API, fake SMTP and Twilio, PostgreSQL) killed and restarted for real; ' +
      'counts what the outside world received. Progress on stderr; the last stdout line is the JSON report.',
  )
  .option('-s, --scenarios <names>', 'comma-separated scenarios to run (default: all; see --list)', scenarioList)
  .option('-j, --journeys <n>', 'onboarding journeys per burst (the other scenarios scale from it)', positiveInt, 200)
  .option('-p, --parallel <n>', 'scenarios running side by side (each has its own servers and ports)', positiveInt, 2)
  .option('--deadline <seconds>', "override every scenario's deadline (from its burst to the count)", positiveInt)
  .option('--max-minutes <n>', 'stop everything after this long', positiveInt, 25)
  .option('--keep', 'keep the run folder (logs, JSONL records, stores) even when everything passed', false)
  .option('-q, --quiet', 'on stderr, only the line with each scenario\'s result', false)
  .option('--list', 'list the scenarios and exit', false)
  .action(async (options: Options) => {
    process.exitCode = await main(options);
    // Connections to servers that are gone may keep the event loop alive: the report is out, leave.
    process.exit(process.exitCode);
  });

program.parseAsync().catch((err: unknown) => {
  progress(`failed: ${errorText(err)}`);
  killAllNow();
  process.exit(1);
});
