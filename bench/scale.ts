/**
 * Scale benchmark (issue 11): the real worker, a real Temporal server and a fake SMTP server, N journeys.
 *
 *   npm run bench:scale -- [--journeys 20000] [--launch-journeys N] [--server dev|postgres] [--store sqlite|postgres] [--concurrency 32]
 *                          [--wave-fraction 0.1] [--winback-share 0.2] [--quiet-timers n] [--signals n] [--keep] ...
 *   npm run bench:scale -- --temporal-address 127.0.0.1:7233 --server-pids 1234,1240 --server-name postgres
 *
 * Processes: the Temporal server (`--server dev`: `temporal server start-dev` on a SQLite file, with /metrics;
 * `--server postgres`: PostgreSQL and the Temporal server built from go.temporal.io/server on it, as `npm run fleet`
 * starts them; or an already running one, prepared by the product's `retention setup` code), the worker exactly as
 * deployed (`node --import tsx src/workers/main.ts`, a child process; CAMPAIGNS_DIR=bench/scale/campaigns), the fake
 * SMTP and Twilio servers of the chaos suite (each a process, recording what they accept), and the store (a SQLite
 * file, or PostgreSQL with `--store postgres`: the fleet's cluster with `--server postgres`, else a throwaway one).
 * This process plays the marketer: it starts journeys through bulkStart (the code behind `retention start --csv`) and
 * sends purchases through recordCustomerEvent (the code behind `POST /customers/:id/events`).
 *
 * 1. Launch: N onboarding journeys by bulkStart; each sends its welcome email at once (then sleeps a day).
 *    launchToFirstSend = fake SMTP receipt time of the journey's welcome - the moment bulkStart was called.
 * 2. Live journeys: N more journeys, nurture and (--winback-share) win-back, that sleep on timers and wait for signals,
 *    started by bulkStart in up to 10 chunks alternating with chunks of as many `client.workflow.start` calls of a
 *    trivial workflow type on a task queue nobody polls (same concurrency), as bench/launch.ts does ->
 *    startedPerSec, noopPerSec, startRatio. Of the N, --quiet-timers journeys get an anniversary timer each, spread
 *    evenly over --quiet-spread seconds, and N * --wave-fraction get one that falls on one and the same millisecond:
 *    the anniversary of bench/scale/campaigns/nurture.json comes one day after signup, and the bench sets those
 *    customers' signup (customers.created_at) to fire time - 1 day before their journeys start. These are started last,
 *    after the worker has caught up with the others, with the fire times far enough ahead (twice the measured time to
 *    start and enter that many journeys, plus 10 s; or --wave-lead).
 * 3. Quiet window: the spread timers fire one by one -> timerLagQuiet*; a few purchases are sent -> signalToSendQuiet*.
 * 4. The wave: N/10 timers fire together -> timerLag*; --signals purchases of 5000 go to other nurture journeys,
 *    spread over half the time the launch says the wave's sends take (1 to 60 s); each is a tier-up, which the journey
 *    sends at once -> signalToSend* = fake SMTP receipt of `tier-up-silver` - the moment recordCustomerEvent was
 *    called, over the purchases sent before the wave's last anniversary email arrived (all of them: signalToSendAll*).
 *    Timer lag = the send ledger row's created_at (written by sendMessage's first claim, i.e. the activity running)
 *    - the timer's scheduled time (created_at of the customer + 1 day); the SMTP receipt is reported alongside.
 * workerRssMb: highest VmRSS of the worker process sampled every 250 ms from the launch to the end of the wave
 * (workerPeakRssMbLifetime: its VmHWM, which includes the workflow bundling at start). serverRssMb: the same for
 * the sum of the server's processes; persistenceRssMb (--server postgres): the sum of PSS over PostgreSQL's processes.
 * workflowTasksPerSec: from the server's Prometheus counter service_requests{operation="RespondWorkflowTaskCompleted"}
 * (frontend) during the launch; without metrics, an estimate from the histories of a sample (WorkflowTaskCompleted
 * events in the window, scaled to the population), which is also given as a cross-check.
 *
 * Progress on stderr; the last stdout line is one JSON object. Never assert these timings in tests.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { sql } from 'kysely';
import { z } from 'zod';
import { loadCatalog } from '../src/campaigns/catalog';
import { projectRoot } from '../src/dev/paths';
import { baseEnv, logMatches, nodeTsProcess, type ManagedProcess } from '../src/dev/supervisor';
import { sleep } from '../src/dev/wait';
import { createStore, type Store } from '../src/store';
import { bulkStart, type BulkStartSummary } from '../src/triggers/bulk-start';
import type { TriggerContext } from '../src/triggers/context';
import { recordCustomerEvent } from '../src/triggers/customer-events';
import { ChaosPostgres } from '../test/chaos/postgres';
import { startOutsideWorld, type OutsideWorld } from '../test/chaos/outside-world';
import { distribution, procStatusKb, RssSampler, SmtpTail, workflowTasksCompleted } from './scale/probes';
import { externalTemporal, startDevTemporal, startPostgresTemporal, type BenchServer } from './scale/servers';

const CAMPAIGNS_DIR = path.join(__dirname, 'scale', 'campaigns');
/** bench/scale/campaigns/nurture.json: anniversary.every. */
const ANNIVERSARY_EVERY_MS = 86_400_000;
/** A purchase this large crosses the silver tier of bench-nurture (1000 points), so the journey sends `tier-up-silver`. */
const PURCHASE_AMOUNT = 5000;
const TIER_UP_STEP = 'tier-up-silver';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, for example 127.0.0.1:7233');
const OptionsSchema = z
  .object({
    journeys: z.coerce.number().int().min(100, 'expected at least 100 journeys').max(1_000_000).default(20_000),
    launchJourneys: z.coerce.number().int().min(100, 'expected at least 100 journeys').max(1_000_000).optional(),
    server: z.enum(['dev', 'postgres'], { message: 'expected dev or postgres' }).default('dev'),
    temporalAddress: hostPort.optional(),
    serverPids: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'expected comma-separated process ids, for example 1234,1240')
      .transform((v) => v.split(',').map(Number))
      .optional(),
    serverName: z.string().min(1).optional(),
    serverMetricsUrl: z.url({ message: 'expected a URL such as http://127.0.0.1:9090/metrics' }).optional(),
    namespace: z.string().min(1).default('default'),
    store: z.enum(['sqlite', 'postgres'], { message: 'expected sqlite or postgres' }).default('sqlite'),
    concurrency: z.coerce.number().int().min(1).max(1000).default(32),
    waveFraction: z.coerce.number().gt(0, 'expected a fraction above 0').max(0.5, 'expected at most 0.5').default(0.1),
    winbackShare: z.coerce.number().min(0).max(0.9, 'expected at most 0.9').default(0.2),
    quietTimers: z.coerce.number().int().min(1).optional(),
    quietSpread: z.coerce.number().min(1, 'expected at least 1 second').max(600).default(10),
    signals: z.coerce.number().int().min(1).optional(),
    waveLead: z.coerce.number().min(5, 'expected at least 5 seconds').optional(),
    smtpRate: z.coerce.number().int().min(1).default(1000),
    smtpPoolSize: z.coerce.number().int().min(1).max(100).default(5),
    maxWait: z.coerce.number().min(10, 'expected at least 10 seconds').optional(),
    workerEnv: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*=.*$/, 'expected KEY=VALUE')).default([]),
    keep: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if (o.temporalAddress === undefined && (o.serverPids || o.serverName || o.serverMetricsUrl)) {
      ctx.addIssue({ code: 'custom', path: ['temporalAddress'], message: 'required with --server-pids, --server-name or --server-metrics-url' });
    }
  });
type Options = z.infer<typeof OptionsSchema>;

const FLAGS = {
  journeys: 'string',
  'launch-journeys': 'string',
  server: 'string',
  'temporal-address': 'string',
  'server-pids': 'string',
  'server-name': 'string',
  'server-metrics-url': 'string',
  namespace: 'string',
  store: 'string',
  concurrency: 'string',
  'wave-fraction': 'string',
  'winback-share': 'string',
  'quiet-timers': 'string',
  'quiet-spread': 'string',
  signals: 'string',
  'wave-lead': 'string',
  'smtp-rate': 'string',
  'smtp-pool-size': 'string',
  'max-wait': 'string',
  'worker-env': 'string',
  keep: 'boolean',
} as const;

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function parseOptions(argv: string[]): Options {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([name, type]) => [name, { type, multiple: name === 'worker-env' }]),
    ) as Record<string, { type: 'string' | 'boolean'; multiple: boolean }>;
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  }
  const raw = Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v]));
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${flagName(String(i.path[0] ?? ''))}: ${i.message}`);
    console.error(`error: invalid options\n${lines.join('\n')}`);
    process.exit(1);
  }
  return parsed.data;
}

const say = (line: string) => process.stderr.write(`scale: ${line}\n`);
const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const secondsSince = (t: number) => ((Date.now() - t) / 1000).toFixed(1);

async function writeSegment(file: string, ids: readonly string[]): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('customer_id,name,email,timezone,locale,tier,preferred_channel,consent_email,consent_sms\n');
  for (const id of ids) await write(`${id},Customer ${id},${id}@example.com,Europe/Paris,en,standard,email,true,false\n`);
  out.end();
  await once(out, 'finish');
}

/** Runs `start(i)` for i < count with `concurrency` in flight; seconds taken. */
async function timedStarts(count: number, concurrency: number, start: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const began = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await start(next++);
    }),
  );
  return (Date.now() - began) / 1000;
}

/** `count` evenly spaced items of `items` (all of them when there are fewer). */
function pickEvenly<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)] as T);
}

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

interface Phase {
  from: number;
  to: number;
  /** Workflow ids per stratum: where a history sample looks when the server has no metrics. */
  strata: string[][];
  tasksFrom?: number;
  tasksTo?: number;
}

/**
 * Workflow tasks completed per second in a phase: from the server's counter when there is one, else estimated from
 * up to 30 histories per stratum (WorkflowTaskCompleted events inside the window, scaled to the stratum's size).
 */
async function workflowTasksPerSec(client: Client, phase: Phase): Promise<{ perSec: number | null; method: string }> {
  const seconds = (phase.to - phase.from) / 1000;
  if (seconds <= 0) return { perSec: null, method: 'none' };
  if (phase.tasksFrom !== undefined && phase.tasksTo !== undefined) {
    return { perSec: round((phase.tasksTo - phase.tasksFrom) / seconds), method: 'server-metrics' };
  }
  const completed = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  let total = 0;
  for (const ids of phase.strata) {
    if (ids.length === 0) continue;
    const sample = pickEvenly(ids, 30);
    let count = 0;
    for (const id of sample) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      for (const event of history.events ?? []) {
        if (event.eventType !== completed || !event.eventTime) continue;
        const at = tsToMs(event.eventTime);
        if (at >= phase.from && at <= phase.to) count++;
      }
    }
    total += (count / sample.length) * ids.length;
  }
  return { perSec: round(total / seconds), method: 'history-sample' };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const N = o.journeys;
  // The launch goal is stated for 20,000 customers; a 100,000 live-journey run need not launch 100,000 as well.
  const L = o.launchJourneys ?? N;
  const run = randomBytes(3).toString('hex');
  const waveSize = Math.max(1, Math.round(N * o.waveFraction));
  const quietSize = o.quietTimers ?? Math.min(200, Math.max(20, Math.round(N / 100)));
  const signalCount = o.signals ?? Math.min(200, Math.max(20, Math.round(N / 100)));
  const quietSignalCount = Math.min(20, Math.max(1, Math.ceil(signalCount / 5)));
  const background = N - waveSize - quietSize;
  const winbackCount = Math.round(background * o.winbackShare);
  const nurtureCount = background - winbackCount;
  if (nurtureCount < signalCount + quietSignalCount) {
    const room = `${N} journeys leave ${nurtureCount} background nurture journeys`;
    console.error(`error: invalid options\n  --signals: ${room}, fewer than the ${signalCount + quietSignalCount} purchases to send (lower --signals, --quiet-timers, --wave-fraction or --winback-share)`);
    process.exit(1);
  }
  const maxWaitMs = (o.maxWait ?? Math.max(300, N * 0.05)) * 1000;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-scale-'));
  // PostgreSQL runs as its own user when we are root (--server postgres): it must be able to reach its folder.
  await chmod(dir, 0o755);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  say(`run ${run} in ${dir}; ${L} launched, ${N} live journeys, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);

  const cleanups: (() => Promise<unknown>)[] = [];
  let failed = true;
  try {
    // The Temporal server.
    const taskQueue = `bench-scale-${run}`;
    const serverCtx = { dir, logDir, taskQueue, campaignsDir: CAMPAIGNS_DIR, log: say };
    let server: BenchServer;
    let serverStoreUrl: string | undefined;
    if (o.temporalAddress) {
      server = await externalTemporal(serverCtx, {
        address: o.temporalAddress,
        pids: o.serverPids ?? [],
        name: o.serverName ?? 'external',
        metricsUrl: o.serverMetricsUrl,
        namespace: o.namespace,
      });
      if (!o.serverPids) say('no --server-pids: serverRssMb will be null');
    } else if (o.server === 'dev') {
      say('starting the Temporal dev server (SQLite file)...');
      server = await startDevTemporal(dir, logDir);
      cleanups.push(() => server.stop());
    } else {
      say('starting PostgreSQL and the Temporal server on it (as npm run fleet does, without its workers and APIs)...');
      const fleetServer = await startPostgresTemporal(serverCtx);
      server = fleetServer;
      serverStoreUrl = fleetServer.storeUrl;
      cleanups.push(() => server.stop());
    }

    // The store: a SQLite file, or PostgreSQL (the fleet's own cluster with --server postgres, else a throwaway one).
    let databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
    if (o.store === 'postgres' && serverStoreUrl) {
      databaseUrl = serverStoreUrl;
    } else if (o.store === 'postgres') {
      say('starting a throwaway PostgreSQL cluster for the store...');
      const pg = await ChaosPostgres.start();
      cleanups.push(() => pg.destroy());
      databaseUrl = await pg.createDatabase('retention');
    }
    const store: Store = await createStore(databaseUrl);
    cleanups.push(() => store.close());
    await store.migrate();

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });

    // The outside world and the worker.
    const world: OutsideWorld = await startOutsideWorld(dir, logDir);
    cleanups.push(() => world.stop());
    const passedThrough = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => /^(WORKER_|TEMPORAL_WORKER_|PRELOAD$|UV_THREADPOOL_SIZE$|NODE_OPTIONS$)/.test(e[0]) && e[1] !== undefined),
    );
    const fromFlags = Object.fromEntries(o.workerEnv.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const settings: Record<string, string> = {
      SMTP_POOL_SIZE: String(o.smtpPoolSize),
      SMTP_RATE_PER_SECOND: String(o.smtpRate),
      FREQUENCY_CAP_EMAIL: '1000',
      ...passedThrough,
      ...fromFlags,
    };
    const workerEnv: Record<string, string> = {
      ...baseEnv(),
      RETENTION_ENV: 'development',
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: databaseUrl,
      CAMPAIGNS_DIR,
      SMTP_URL: `smtp://127.0.0.1:${world.smtp.port}`,
      TWILIO_ACCOUNT_SID: world.twilioAccount.accountSid,
      TWILIO_AUTH_TOKEN: world.twilioAccount.authToken,
      TWILIO_FROM_NUMBER: world.twilioAccount.fromNumber,
      TWILIO_API_URL: `http://127.0.0.1:${world.twilio.port}`,
      LINK_SIGNING_SECRET: 'bench-scale-link-signing-secret',
      ...settings,
    };
    say(`starting the worker (node --import tsx src/workers/main.ts; ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ')})...`);
    const worker: ManagedProcess = nodeTsProcess({
      name: 'worker',
      entry: path.join(projectRoot, 'src/workers/main.ts'),
      env: workerEnv,
      logDir,
      ready: logMatches(/worker polling task queue/),
      readyTimeoutMs: 180_000,
    });
    await worker.start();
    cleanups.push(() => worker.stop(15_000));
    const workerStartupHwmKb = (await procStatusKb(worker.pid as number, 'VmHWM')) ?? null;

    const catalog = await loadCatalog(CAMPAIGNS_DIR);
    const ctx: TriggerContext = { client, store, catalog, taskQueue };
    const sampler = new RssSampler(() => worker.pid, () => server.pids(), server.persistencePids);
    sampler.start();
    cleanups.push(async () => sampler.stop());
    const tail = new SmtpTail(world.smtp.recordsFile);
    const tasksNow = async () => (server.metricsUrl ? workflowTasksCompleted(server.metricsUrl) : undefined);
    const notes: string[] = [];
    const workerAlive = () => {
      if (!worker.running) throw new Error(`the worker exited (log ${worker.logFile}):\n${worker.logSinceStart().trim().split('\n').slice(-10).join('\n')}`);
    };

    /** Polls the SMTP record until `done()` or the budget is spent; progress every 5 s. */
    const waitForMail = async (what: string, done: () => number, expected: number, budgetMs = maxWaitMs) => {
      const began = Date.now();
      let lastSay = began;
      for (;;) {
        tail.poll();
        const have = done();
        if (have >= expected) return true;
        workerAlive();
        if (Date.now() - began > budgetMs) {
          notes.push(`${what}: ${expected - have} of ${expected} not received within ${budgetMs / 1000} s`);
          say(`${what}: gave up waiting, ${have}/${expected} received`);
          return false;
        }
        if (Date.now() - lastSay >= 5000) {
          say(`${what}: ${have}/${expected} received (${secondsSince(began)} s)`);
          lastSay = Date.now();
        }
        await sleep(250);
      }
    };

    // 1. Launch.
    const launchIds = range(`l-${run}-`, 0, L);
    const launchFile = path.join(dir, 'launch.csv');
    await writeSegment(launchFile, launchIds);
    say(`launch: bulk start of ${L} onboarding journeys (welcome email at once), concurrency ${o.concurrency}...`);
    sampler.setPhase('launch');
    const launchTasks0 = await tasksNow();
    const launchAt = Date.now();
    const launchSummary = await bulkStart(ctx, { stage: 'onboarding', file: launchFile, concurrency: o.concurrency });
    if (launchSummary.started !== L) throw new Error(`launch: expected ${L} journeys started, got ${JSON.stringify(launchSummary)}`);
    say(`launch: ${L} started in ${(launchSummary.elapsedMs / 1000).toFixed(1)} s (${(L / (launchSummary.elapsedMs / 1000)).toFixed(0)}/s); waiting for the welcome emails...`);
    const welcomeOf = (id: string) => tail.first.get(SmtpTail.key(`onboarding-${id}`, 'welcome'));
    const waitingFor = new Set(launchIds);
    await waitForMail(
      'launch',
      () => {
        for (const id of waitingFor) if (welcomeOf(id)) waitingFor.delete(id);
        return L - waitingFor.size;
      },
      L,
    );
    const launchLatencies = launchIds.flatMap((id) => {
      const mail = welcomeOf(id);
      return mail ? [mail.at - launchAt] : [];
    });
    const launchEnd = Date.now();
    const launchTasks1 = await tasksNow();
    const lastWelcome = launchAt + Math.max(0, ...launchLatencies);
    const launch = distribution(launchLatencies);
    const launchSendsPerSec = launchLatencies.length / Math.max(0.001, (lastWelcome - launchAt) / 1000);
    say(`launch: ${launch.n}/${L} first messages; launch-to-first-send p50 ${launch.p50} ms, p99 ${launch.p99} ms, last after ${((lastWelcome - launchAt) / 1000).toFixed(1)} s (${launchSendsPerSec.toFixed(0)} sends/s)`);
    const phases: Record<string, Phase> = {
      launch: { from: launchAt, to: launchEnd, strata: [launchIds.map((id) => `onboarding-${id}`)], tasksFrom: launchTasks0, tasksTo: launchTasks1 },
    };

    // 2. Live journeys: background chunks alternating with bare starts, then the timed journeys.
    sampler.setPhase('start');
    const nurtureIds = range(`n-${run}-`, 0, nurtureCount);
    const winbackIds = range(`w-${run}-`, 0, winbackCount);
    const quietIds = range(`q-${run}-`, 0, quietSize);
    const waveIds = range(`x-${run}-`, 0, waveSize);
    const noopQueue = `bench-noop-${run}`;
    let noopIndex = 0;
    const noopChunk = (count: number) =>
      timedStarts(count, o.concurrency, () => client.workflow.start('benchNoopWorkflow', { taskQueue: noopQueue, workflowId: `bench-noop-${run}-${noopIndex++}`, args: [] }));
    let bulkSeconds = 0;
    let noopSeconds = 0;
    let started = 0;
    const bulk = async (stage: 'nurture' | 'winback', ids: string[], name: string): Promise<BulkStartSummary | undefined> => {
      if (ids.length === 0) return undefined;
      const file = path.join(dir, `${name}.csv`);
      await writeSegment(file, ids);
      const summary = await bulkStart(ctx, { stage, file, concurrency: o.concurrency });
      if (summary.started !== ids.length) throw new Error(`${name}: expected ${ids.length} journeys started, got ${JSON.stringify(summary)}`);
      started += summary.started;
      bulkSeconds += summary.elapsedMs / 1000;
      return summary;
    };
    const chunks = Math.min(9, Math.max(1, Math.round(background / 2000)));
    const slice = <T>(items: T[], c: number) => items.slice(Math.floor((c * items.length) / chunks), Math.floor(((c + 1) * items.length) / chunks));
    const startBegan = Date.now();
    const startTasks0 = await tasksNow();
    for (let c = 0; c < chunks; c++) {
      const n = slice(nurtureIds, c);
      const w = slice(winbackIds, c);
      const runBulk = async () => {
        await bulk('nurture', n, `nurture-${c}`);
        await bulk('winback', w, `winback-${c}`);
      };
      const runNoop = async () => {
        noopSeconds += await noopChunk(n.length + w.length);
      };
      if (c % 2 === 0) await runBulk().then(runNoop);
      else await runNoop().then(runBulk);
      workerAlive();
      say(`live start chunk ${c + 1}/${chunks}: ${started} journeys bulk-started (${(started / bulkSeconds).toFixed(0)}/s), bare starts ${(noopIndex / noopSeconds).toFixed(0)}/s`);
    }

    // The worker catches up (every journey has recorded its entry) before timers are planned.
    const entered = async (prefixes: string[]): Promise<number> => {
      const row = await store.kysely
        .selectFrom('outcomes')
        .select(sql<number>`count(*)`.as('n'))
        .where('status', '=', 'entered')
        .where((eb) => eb.or(prefixes.map((p) => eb('customer_id', 'like', `${p}%`))))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    };
    const backgroundPrefixes = [`n-${run}-`, `w-${run}-`];
    let lastSay = Date.now();
    let enteredSoFar = await entered(backgroundPrefixes);
    while (enteredSoFar < background) {
      workerAlive();
      if (Date.now() - startBegan > maxWaitMs) {
        notes.push(`live start: only ${enteredSoFar} of ${background} background journeys had entered after ${maxWaitMs / 1000} s (--max-wait); went on`);
        say(`live start: gave up waiting for the worker (${enteredSoFar}/${background} entered)`);
        break;
      }
      if (Date.now() - lastSay > 5000) {
        say(`live start: waiting for the worker to enter every journey (${enteredSoFar}/${background})`);
        lastSay = Date.now();
      }
      await sleep(500);
      enteredSoFar = await entered(backgroundPrefixes);
    }
    const caughtUp = Date.now();
    const msPerJourney = (caughtUp - startBegan) / Math.max(1, enteredSoFar);
    const backlog = background - enteredSoFar;
    say(`live start: ${enteredSoFar} background journeys entered after ${((caughtUp - startBegan) / 1000).toFixed(1)} s (${msPerJourney.toFixed(1)} ms per journey, bare starts included)`);

    // The timed journeys: their noop chunk first (so no bare starts run while their timers fire), then fire times, then the starts.
    const timedIds = [...quietIds, ...waveIds];
    noopSeconds += await noopChunk(timedIds.length);
    for (const id of timedIds) {
      await store.upsertCustomer({ id, name: `Customer ${id}`, email: `${id}@example.com`, timezone: 'Europe/Paris', preferredChannel: 'email', consentEmail: true });
    }
    // Whole milliseconds: the store keeps times as integers (PostgreSQL bigint refuses a fraction).
    const leadMs = Math.round(o.waveLead !== undefined ? o.waveLead * 1000 : Math.max(15_000, 2 * (backlog + timedIds.length) * msPerJourney + 10_000));
    const quietAt = Date.now() + leadMs;
    const quietSpreadMs = o.quietSpread * 1000;
    const quietFire = new Map(quietIds.map((id, i) => [id, quietAt + Math.round((i * quietSpreadMs) / quietIds.length)]));
    const waveAt = quietAt + quietSpreadMs + 5000;
    const fireOf = (id: string) => quietFire.get(id) ?? waveAt;
    await store.kysely.transaction().execute(async (trx) => {
      for (const id of quietIds) await trx.updateTable('customers').set({ created_at: fireOf(id) - ANNIVERSARY_EVERY_MS }).where('id', '=', id).execute();
      await trx.updateTable('customers').set({ created_at: waveAt - ANNIVERSARY_EVERY_MS }).where('id', 'like', `x-${run}-%`).execute();
    });
    say(`timed journeys: ${quietIds.length} quiet timers from +${(leadMs / 1000).toFixed(0)} s over ${o.quietSpread} s, ${waveIds.length} wave timers at +${((waveAt - Date.now()) / 1000).toFixed(0)} s; starting them...`);
    await bulk('nurture', timedIds, 'timed');
    const startEnd = Date.now();
    const startTasks1 = await tasksNow();
    phases.start = {
      from: startBegan,
      to: startEnd,
      strata: [nurtureIds, winbackIds, timedIds].map((ids) => ids.map((id) => `${id.startsWith('w-') ? 'winback' : 'nurture'}-${id}`)),
      tasksFrom: startTasks0,
      tasksTo: startTasks1,
    };
    const startedPerSec = started / bulkSeconds;
    const noopPerSec = noopIndex / noopSeconds;
    say(`live start: ${started} journeys, bulk start ${startedPerSec.toFixed(0)}/s vs bare workflow start ${noopPerSec.toFixed(0)}/s (ratio ${(startedPerSec / noopPerSec).toFixed(2)})`);
    const timedPrefixes = [`q-${run}-`, `x-${run}-`];
    while ((await entered(timedPrefixes)) < timedIds.length && Date.now() < quietAt) await sleep(250);
    const timedEntered = await entered(timedPrefixes);
    if (timedEntered < timedIds.length) {
      notes.push(`${timedIds.length - timedEntered} timed journeys had not entered when the first timer was due: raise --wave-lead`);
      say(`warning: only ${timedEntered}/${timedIds.length} timed journeys entered before the first timer; late ones miss their timer`);
    }
    sampler.setPhase('idle');

    /** Sends one purchase per customer at its planned time; resolves with the moment each call began. */
    const sendPurchases = async (ids: string[], from: number, spreadMs: number): Promise<Map<string, number>> => {
      const sentAt = new Map<string, number>();
      const calls: Promise<unknown>[] = [];
      for (let j = 0; j < ids.length; j++) {
        const id = ids[j] as string;
        const due = from + Math.round((j * spreadMs) / ids.length);
        if (due > Date.now()) await sleep(due - Date.now());
        sentAt.set(id, Date.now());
        calls.push(
          recordCustomerEvent(ctx, id, { type: 'purchase', amount: PURCHASE_AMOUNT, orderId: `bench-${run}-${id}` }).catch((err: Error) => {
            sentAt.delete(id);
            notes.push(`purchase for ${id} failed: ${err.message}`);
          }),
        );
      }
      await Promise.all(calls);
      return sentAt;
    };
    const tierUpOf = (id: string) => tail.first.get(SmtpTail.key(`nurture-${id}`, TIER_UP_STEP));
    const signalLatencies = (sentAt: Map<string, number>) =>
      [...sentAt].flatMap(([id, at]) => {
        const mail = tierUpOf(id);
        return mail ? [mail.at - at] : [];
      });
    const anniversaryStep = (id: string) => `anniversary-${new Date(fireOf(id)).toISOString().slice(0, 10)}`;
    const anniversaryOf = (id: string) => tail.first.get(SmtpTail.key(`nurture-${id}`, anniversaryStep(id)));

    // 3. Quiet window: timers one by one, a few purchases.
    if (Date.now() < quietAt) await sleep(quietAt - Date.now());
    sampler.setPhase('quiet');
    say(`quiet window: ${quietIds.length} timers over ${o.quietSpread} s, ${quietSignalCount} purchases`);
    const quietSignalIds = nurtureIds.slice(0, quietSignalCount);
    const quietSent = await sendPurchases(quietSignalIds, quietAt + 250, Math.max(0, quietSpreadMs - 500));
    await waitForMail('quiet window', () => quietIds.filter((id) => anniversaryOf(id)).length + quietSignalIds.filter((id) => tierUpOf(id)).length, quietIds.length + quietSent.size, Math.max(0, waveAt - 1000 - Date.now()));
    sampler.setPhase('idle');

    // 4. The wave, and purchases while it is processed.
    const signalSpreadMs = Math.min(60_000, Math.max(1000, (0.5 * waveSize * 1000) / Math.max(1, launchSendsPerSec)));
    const waveSignalIds = nurtureIds.slice(quietSignalCount, quietSignalCount + signalCount);
    if (Date.now() < waveAt) await sleep(waveAt - Date.now());
    sampler.setPhase('wave');
    const waveTasks0 = await tasksNow();
    say(`wave: ${waveIds.length} timers due now; ${waveSignalIds.length} purchases over ${(signalSpreadMs / 1000).toFixed(1)} s`);
    const waveSentPromise = sendPurchases(waveSignalIds, waveAt, signalSpreadMs);
    let waveSent = new Map<string, number>();
    void waveSentPromise.then((m) => (waveSent = m));
    await waitForMail(
      'wave',
      () => waveIds.filter((id) => anniversaryOf(id)).length + waveSignalIds.filter((id) => tierUpOf(id)).length,
      waveIds.length + waveSignalIds.length,
    );
    waveSent = await waveSentPromise;
    const waveEnd = Date.now();
    const waveTasks1 = await tasksNow();
    sampler.setPhase('after');
    phases.wave = {
      from: waveAt,
      to: waveEnd,
      strata: [waveIds.map((id) => `nurture-${id}`), waveSignalIds.map((id) => `nurture-${id}`)],
      tasksFrom: waveTasks0,
      tasksTo: waveTasks1,
    };

    // Timer lag: the send ledger's first claim (the activity running) against the scheduled time.
    const ledgerRows = await store.kysely
      .selectFrom('send_ledger')
      .select(['customer_id', 'step_id', 'created_at'])
      .where('step_id', 'like', 'anniversary-%')
      .where((eb) => eb.or(timedPrefixes.map((p) => eb('customer_id', 'like', `${p}%`))))
      .execute();
    const claimedAt = new Map(ledgerRows.filter((r) => r.step_id === anniversaryStep(r.customer_id)).map((r) => [r.customer_id, Number(r.created_at)]));
    const lags = (ids: string[]) => ids.flatMap((id) => (claimedAt.has(id) ? [(claimedAt.get(id) as number) - fireOf(id)] : []));
    const receiptLags = (ids: string[]) => ids.flatMap((id) => {
      const mail = anniversaryOf(id);
      return mail ? [mail.at - fireOf(id)] : [];
    });
    const timerWave = distribution(lags(waveIds));
    const timerQuiet = distribution(lags(quietIds));
    const timerWaveReceived = distribution(receiptLags(waveIds));
    const timerQuietReceived = distribution(receiptLags(quietIds));
    const signalQuiet = distribution(signalLatencies(quietSent));
    // "Under the wave": purchases sent before the wave's last anniversary email arrived; the rest are reported apart.
    const lastWaveMail = Math.max(0, ...waveIds.map((id) => anniversaryOf(id)?.at ?? 0));
    const duringWave = new Map([...waveSent].filter(([, at]) => at <= lastWaveMail));
    const signalsDuringWave = duringWave.size;
    const signalAll = distribution(signalLatencies(waveSent));
    const signalWave = signalsDuringWave > 0 ? distribution(signalLatencies(duringWave)) : signalAll;
    if (signalsDuringWave === 0) notes.push('no purchase was sent before the wave\'s last message: signalToSend* cover every purchase of the wave phase');
    say(`timer lag (due -> sendMessage claims its ledger row): wave p50 ${timerWave.p50} ms p99 ${timerWave.p99} ms (n ${timerWave.n}); quiet p50 ${timerQuiet.p50} ms p99 ${timerQuiet.p99} ms (n ${timerQuiet.n})`);
    say(`signal to send: wave p50 ${signalWave.p50} ms p99 ${signalWave.p99} ms (n ${signalWave.n}, ${signalsDuringWave} sent before the wave's last message); quiet p99 ${signalQuiet.p99} ms (n ${signalQuiet.n})`);
    if (timerWave.n < waveIds.length) notes.push(`${waveIds.length - timerWave.n} wave timers have no ledger row (missed or late)`);
    if (timerQuiet.n < quietIds.length) notes.push(`${quietIds.length - timerQuiet.n} quiet timers have no ledger row (missed or late)`);

    // Memory and workflow tasks.
    const workerHwmKb = (await procStatusKb(worker.pid as number, 'VmHWM')) ?? null;
    const rss = sampler.peak();
    const rssByPhase = Object.fromEntries(['launch', 'start', 'quiet', 'wave'].map((p) => [p, sampler.peak(p)]));
    const tasks = Object.fromEntries(await Promise.all(Object.entries(phases).map(async ([name, phase]) => [name, await workflowTasksPerSec(client, phase)] as const)));
    const taskMethod = tasks.launch?.method ?? 'none';
    // A cross-check of the counter: the same figure estimated from histories.
    const launchTasksBySample = phases.launch?.tasksFrom !== undefined ? await workflowTasksPerSec(client, { ...phases.launch, tasksFrom: undefined, tasksTo: undefined }) : undefined;
    const settingsLines = worker
      .logSinceStart()
      .split('\n')
      .filter((l) => /settings|maxCached|maxConcurrent|tuner|cache size/i.test(l))
      .slice(0, 5);
    say(`worker RSS peak ${rss.workerMb} MB (VmHWM incl. start-up ${workerHwmKb === null ? '?' : Math.round(workerHwmKb / 1024)} MB), server RSS peak ${rss.serverMb} MB; workflow tasks/s ${JSON.stringify(Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, v.perSec])))} (${taskMethod})`);

    failed = false;
    console.log(
      JSON.stringify({
        journeys: N,
        launchJourneys: L,
        server: server.name,
        store: o.store,
        concurrency: o.concurrency,
        startedPerSec: round(startedPerSec),
        noopPerSec: round(noopPerSec),
        startRatio: round(startedPerSec / noopPerSec, 2),
        workerRssMb: rss.workerMb,
        serverRssMb: rss.serverMb,
        persistenceRssMb: rss.persistenceMb,
        timerLagP50Ms: timerWave.p50,
        timerLagP99Ms: timerWave.p99,
        timerLagQuietP50Ms: timerQuiet.p50,
        timerLagQuietP99Ms: timerQuiet.p99,
        signalToSendP50Ms: signalWave.p50,
        signalToSendP99Ms: signalWave.p99,
        signalToSendAllP99Ms: signalAll.p99,
        signalToSendQuietP99Ms: signalQuiet.p99,
        launchToFirstSendP50Ms: launch.p50,
        launchToFirstSendP99Ms: launch.p99,
        launchSeconds: round((lastWelcome - launchAt) / 1000, 1),
        launchSendsPerSec: round(launchSendsPerSec),
        workflowTasksPerSec: tasks.launch?.perSec ?? null,
        workflowTasksPerSecLaunchHistorySample: launchTasksBySample?.perSec ?? null,
        workflowTasksPerSecByPhase: Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, v.perSec])),
        workflowTasksMethod:
          taskMethod === 'server-metrics'
            ? 'server /metrics: service_requests{operation="RespondWorkflowTaskCompleted"} (frontend), delta over the phase / its seconds; headline = launch'
            : 'history sample: WorkflowTaskCompleted events inside the phase in up to 30 histories per group, scaled to the group; headline = launch',
        n: {
          launch: L,
          launchReceived: launch.n,
          live: N,
          liveStarted: started,
          liveNurture: nurtureCount + quietSize + waveSize,
          liveWinback: winbackCount,
          noopStarts: noopIndex,
          waveTimers: waveSize,
          waveTimersMeasured: timerWave.n,
          quietTimers: quietSize,
          quietTimersMeasured: timerQuiet.n,
          signals: waveSignalIds.length,
          signalsMeasured: signalWave.n,
          signalsDuringWave,
          quietSignals: quietSignalIds.length,
          quietSignalsMeasured: signalQuiet.n,
          rssSamples: rss.samples,
        },
        launch: { ...launch, bulkStartSeconds: round(launchSummary.elapsedMs / 1000, 1) },
        timerLag: { wave: timerWave, quiet: timerQuiet, waveReceived: timerWaveReceived, quietReceived: timerQuietReceived },
        signalToSend: { wave: signalWave, wavePhaseAll: signalAll, quiet: signalQuiet, spreadSeconds: round(signalSpreadMs / 1000, 1) },
        workerPeakRssMbLifetime: workerHwmKb === null ? null : Math.round(workerHwmKb / 1024),
        workerPeakRssMbStartup: workerStartupHwmKb === null ? null : Math.round(workerStartupHwmKb / 1024),
        rssByPhase,
        worker: { command: 'node --import tsx src/workers/main.ts', settings, settingsLogLines: settingsLines },
        waveLeadSeconds: round(leadMs / 1000, 1),
        liveChunks: chunks + 1,
        loadAverage: os.loadavg().map((l) => round(l, 2)),
        cores: os.cpus().length,
        methods: {
          launchToFirstSend: 'fake SMTP receipt of each onboarding journey\'s welcome email - the moment bulkStart was called',
          startRate: 'journeys started / seconds inside bulkStart (customer upsert + start per row), chunks alternating with bare client.workflow.start chunks on an unpolled task queue',
          timerLag: 'send_ledger.created_at of the anniversary send (sendMessage\'s first claim) - the scheduled fire time (customer created_at + 1 day); *Received: fake SMTP receipt instead',
          signalToSend: 'fake SMTP receipt of tier-up-silver - the moment recordCustomerEvent(purchase) was called; headline over the purchases sent before the wave\'s last anniversary email arrived (wavePhaseAll: every purchase of the wave phase)',
          rss: 'max VmRSS sampled every 250 ms from the launch to the end of the wave (worker: the node process; server: sum over its processes); persistence (--server postgres): max sum of PSS over the PostgreSQL cluster, which also holds the store with --store postgres',
        },
        notes,
      }),
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => say(`cleanup: ${(err as Error).message}`));
    if (failed || o.keep) say(`run folder kept: ${dir} (logs in ${logDir})`);
    else await rm(dir, { recursive: true, force: true });
  }
}

// Ctrl-C: exit, so that the supervisor's exit hook kills every process the bench started (PostgreSQL included).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
