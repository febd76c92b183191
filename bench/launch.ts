/**
 * Campaign launch benchmark (issue 5): how fast `retention start <stage> --csv` starts journeys compared with the
 * bare cost of starting workflows, and whether its memory stays flat as the segment grows.
 *
 *   npm run bench:launch -- [--rows 10000] [--concurrency 32] [--big-rows 100000] [--big-mode start|dry-run]
 *
 * Flags may also come from BENCH_ROWS, BENCH_CONCURRENCY, BENCH_BIG_ROWS, BENCH_BIG_MODE.
 *
 * What runs, all against an embedded dev server (in memory, the project's search attributes, no worker):
 *  1. throughput, in this process, in up to 10 alternating chunks so that server slow-down and machine load weigh on
 *     both alike: bulkStart (the code behind `retention start --csv`) on generated segments with every profile
 *     column (each row upserts the customer in SQLite, then starts onboarding) -> startedPerSec; and as many
 *     `client.workflow.start` calls of a trivial workflow type on a task queue nobody polls, same concurrency ->
 *     noopPerSec.
 *  2. memory: the real CLI (`node --import tsx src/triggers/cli.ts start onboarding --csv <file> --json`) as a child
 *     process on one `rows`-row segment with fresh customers and store -> peakRssMb (and cliStartedPerSec, the
 *     CLI's own timing of the bulk start, process start-up excluded).
 *  3. the same CLI on a `big-rows` segment: `start` starts them all; `dry-run` (default: starting 100k workflows
 *     on this dev server takes far too long) streams, parses and validates every row through the same pipeline but
 *     starts nothing and writes no customers -> peakRssMb100k; compared with the same mode on `rows` rows.
 * Peak RSS is the child's kernel high-water mark (VmHWM in /proc/<pid>/status), read every 50 ms until it exits.
 * Human-readable lines first; the last line is one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { loadCatalog } from '../src/campaigns/catalog';
import { startDevServer } from '../src/dev/dev-server';
import { createStore } from '../src/store';
import { bulkStart, type BulkStartSummary } from '../src/triggers/bulk-start';

const OptionsSchema = z.object({
  rows: z.coerce.number().int().min(100, 'expected at least 100 rows').max(1_000_000).default(10_000),
  concurrency: z.coerce.number().int().min(1).max(1000).default(32),
  bigRows: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  bigMode: z.enum(['start', 'dry-run']).default('dry-run'),
});
type Options = z.infer<typeof OptionsSchema>;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string' }, concurrency: { type: 'string' }, 'big-rows': { type: 'string' }, 'big-mode': { type: 'string' } },
  });
  const parsed = OptionsSchema.safeParse({
    rows: values.rows ?? env.BENCH_ROWS,
    concurrency: values.concurrency ?? env.BENCH_CONCURRENCY,
    bigRows: values['big-rows'] ?? env.BENCH_BIG_ROWS,
    bigMode: values['big-mode'] ?? env.BENCH_BIG_MODE,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  --${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
    console.error(`error: invalid options\n${lines.join('\n')}`);
    process.exit(1);
  }
  return parsed.data;
}

/** A segment with every profile column, written as a stream (the 100k file never sits in memory either). */
async function writeSegment(file: string, rows: number, prefix: string): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('customer_id,name,email,phone,timezone,locale,tier,preferred_channel,consent_email,consent_sms\n');
  for (let i = 0; i < rows; i++) {
    const id = `${prefix}-${i}`;
    await write(`${id},Customer ${i},${id}@example.com,+1555${String(i).padStart(7, '0')},Europe/Paris,en,standard,email,true,false\n`);
  }
  out.end();
  await once(out, 'finish');
}

/** Runs `start(i)` for i < count with `concurrency` in flight; operations per second. */
async function startsPerSecond(count: number, concurrency: number, start: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await start(next++);
    }),
  );
  return count / ((performance.now() - began) / 1000);
}

/** Trivial workflows nobody will run: the bare cost of a start. */
function noopStarts(client: Client, count: number, concurrency: number): Promise<number> {
  const taskQueue = `bench-noop-${randomUUID()}`;
  const run = randomUUID().slice(0, 8);
  return startsPerSecond(count, concurrency, (i) =>
    client.workflow.start('benchNoopWorkflow', { taskQueue, workflowId: `bench-noop-${run}-${i}`, args: [] }),
  );
}

async function peakRssKb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // exited (or not Linux)
  }
}

interface CliRun {
  summary: BulkStartSummary;
  peakRssMb: number | null;
  wallMs: number;
}

/** Runs the real CLI as a child process and watches its peak RSS. */
async function runCliChild(args: string[], env: Record<string, string>): Promise<CliRun> {
  const began = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/triggers/cli.ts'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  let peakKb: number | undefined;
  const sampler = setInterval(() => {
    void peakRssKb(child.pid as number).then((kb) => {
      if (kb !== undefined) peakKb = Math.max(peakKb ?? 0, kb);
    });
  }, 50);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`the CLI exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as BulkStartSummary;
  return { summary, peakRssMb: peakKb === undefined ? null : Math.round(peakKb / 1024), wallMs: performance.now() - began };
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-launch-'));
  console.log(`starting the embedded dev server (in memory)...`);
  const server = await startDevServer({ namespace: 'default', cliPath: process.env.TEMPORAL_CLI_PATH });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const cliEnv = (name: string) => ({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `bench-launch-${randomUUID()}`,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, `${name}.sqlite`)}`,
    CAMPAIGNS_DIR: path.resolve('campaigns'),
  });
  const run = randomUUID().slice(0, 8);
  const store = await createStore(`sqlite:${path.join(dir, 'in-process.sqlite')}`);
  await store.migrate();
  try {
    // Throughput: bulk start and bare starts alternate in chunks, so a server that slows as it fills up (and other
    // load on the machine) weighs on both alike.
    const ctx = { client, store, catalog: await loadCatalog(path.resolve('campaigns')), taskQueue: `bench-launch-${randomUUID()}` };
    const chunks = Math.min(10, Math.max(1, Math.floor(options.rows / 500)));
    let bulkSeconds = 0;
    let noopSeconds = 0;
    let started = 0;
    for (let c = 0; c < chunks; c++) {
      const chunkRows = Math.floor(options.rows / chunks) + (c < options.rows % chunks ? 1 : 0);
      const chunkFile = path.join(dir, `chunk-${c}.csv`);
      await writeSegment(chunkFile, chunkRows, `bench-${run}-${c}`);
      const runBulk = async () => {
        const summary = await bulkStart(ctx, { stage: 'onboarding', file: chunkFile, concurrency: options.concurrency });
        if (summary.started !== chunkRows) throw new Error(`expected ${chunkRows} journeys started, got ${JSON.stringify(summary)}`);
        started += summary.started;
        bulkSeconds += summary.elapsedMs / 1000;
      };
      const runNoop = async () => {
        noopSeconds += chunkRows / (await noopStarts(client, chunkRows, options.concurrency));
      };
      if (c % 2 === 0) await runBulk().then(runNoop);
      else await runNoop().then(runBulk);
      console.log(`chunk ${c + 1}/${chunks}: ${started} journeys bulk-started (${(started / bulkSeconds).toFixed(0)}/s), bare starts ${(started / noopSeconds).toFixed(0)}/s`);
    }
    const startedPerSec = started / bulkSeconds;
    const noopPerSec = options.rows / noopSeconds;
    console.log(`throughput: bulk start ${startedPerSec.toFixed(0)}/s vs bare workflow start ${noopPerSec.toFixed(0)}/s, concurrency ${options.concurrency}`);

    // Memory: the real CLI in a child process on one file of `rows` rows (fresh customers and store).
    const segment = path.join(dir, `segment-${options.rows}.csv`);
    await writeSegment(segment, options.rows, `bench-cli-${run}`);
    const bulk = await runCliChild(['start', 'onboarding', '--csv', segment, '--concurrency', String(options.concurrency), '--json'], cliEnv('bulk'));
    if (bulk.summary.started !== options.rows) throw new Error(`expected ${options.rows} journeys started, got ${JSON.stringify(bulk.summary)}`);
    const cliStartedPerSec = bulk.summary.started / (bulk.summary.elapsedMs / 1000);
    console.log(
      `CLI child: ${bulk.summary.started} onboarding journeys in ${(bulk.summary.elapsedMs / 1000).toFixed(1)}s = ` +
        `${cliStartedPerSec.toFixed(0)}/s (wall time with start-up ${(bulk.wallMs / 1000).toFixed(1)}s), peak RSS ${bulk.peakRssMb} MB`,
    );

    // Memory against file size: the same CLI on the small and the big segment (see the header for the modes).
    const modeArgs = options.bigMode === 'dry-run' ? ['--dry-run'] : [];
    const handled = (summary: BulkStartSummary) => (options.bigMode === 'dry-run' ? summary.valid : summary.started);
    let small: CliRun | undefined;
    let big: CliRun | undefined;
    if (options.bigRows > 0) {
      if (options.bigMode === 'dry-run') {
        small = await runCliChild(['start', 'onboarding', '--csv', segment, '--concurrency', String(options.concurrency), '--json', ...modeArgs], cliEnv('small'));
        console.log(`${options.rows}-row segment (CLI child, dry-run): peak RSS ${small.peakRssMb} MB`);
      }
      const bigSegment = path.join(dir, `segment-${options.bigRows}.csv`);
      await writeSegment(bigSegment, options.bigRows, `bench-big-${run}`);
      big = await runCliChild(
        ['start', 'onboarding', '--csv', bigSegment, '--concurrency', String(options.concurrency), '--json', ...modeArgs],
        cliEnv('big'),
      );
      if (handled(big.summary) !== options.bigRows) throw new Error(`expected ${options.bigRows} rows handled, got ${JSON.stringify(big.summary)}`);
      console.log(
        `${options.bigRows}-row segment (CLI child, ${options.bigMode}): ${(big.summary.elapsedMs / 1000).toFixed(1)}s ` +
          `(${(options.bigRows / (big.summary.elapsedMs / 1000)).toFixed(0)} rows/s), peak RSS ${big.peakRssMb} MB`,
      );
    }

    console.log(
      JSON.stringify({
        rows: options.rows,
        concurrency: options.concurrency,
        startedPerSec: round(startedPerSec),
        noopPerSec: round(noopPerSec),
        ratio: round(startedPerSec / noopPerSec, 2),
        peakRssMb: bulk.peakRssMb,
        peakRssMb100k: big?.peakRssMb ?? null,
        peakRssMbSmallSameMode: small?.peakRssMb ?? bulk.peakRssMb,
        bigRows: options.bigRows,
        bigMode: options.bigMode,
        cliStartedPerSec: round(cliStartedPerSec),
        bigRowsPerSec: big ? round(options.bigRows / (big.summary.elapsedMs / 1000)) : null,
        rssMethod: 'peak RSS (VmHWM) of the CLI child process',
      }),
    );
  } finally {
    await store.close();
    await connection.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
