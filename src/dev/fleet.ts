import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../cli-errors';
import { Keeper } from './keeper';
import { PostgresCluster } from './postgres-cluster';
import { logMatches, nodeTsProcess, type ManagedProcess } from './supervisor';
import { ensureTemporalSchemas, postgresTemporalProcess, type TemporalServerPorts } from './temporal-postgres';
import type { ServerBinaries } from './temporal-server-binaries';
import { portOpen, sleep } from './wait';

/** The project's store in the fleet's PostgreSQL (Temporal's own databases sit beside it). */
export const FLEET_STORE_DATABASE = 'retention';

export interface FleetOptions {
  /** Holds postgres/ (the cluster), temporal/ (server config), logs/ and pids.json; a second start reuses it. */
  dir: string;
  binaries: ServerBinaries;
  postgresPort: number;
  temporalPorts: TemporalServerPorts;
  workers: number;
  /** One API instance per port. */
  apiPorts: number[];
  /** Everything workers and APIs need besides what the fleet sets (TEMPORAL_ADDRESS, DATABASE_URL, HTTP_PORT...). */
  env: Record<string, string>;
  /** `retention setup` against the fleet's Temporal (namespace, search attributes, schedule), before any worker. */
  setup: (temporalAddress: string, databaseUrl: string) => Promise<void>;
  log: (line: string) => void;
  /** PostgreSQL without fsync: for throwaway test fleets only. */
  postgresFsync?: boolean;
  /** Start the Temporal server, a worker or an API again when it dies, as a process manager would (default true). */
  restartOnExit?: boolean;
  /** Aborted (Ctrl-C while starting): the start stops at its next step, stops what it started and throws FleetStartAborted. */
  signal?: AbortSignal;
}

export class FleetStartAborted extends Error {
  override name = 'FleetStartAborted';
}

export interface FleetApi {
  process: ManagedProcess;
  port: number;
  url: string;
}

export interface Fleet {
  postgres: PostgresCluster;
  temporal: ManagedProcess;
  temporalAddress: string;
  databaseUrl: string;
  workers: ManagedProcess[];
  apis: FleetApi[];
  logDir: string;
  /** Stops dependants first: APIs and workers, then the Temporal server, then PostgreSQL. */
  stop(): Promise<void>;
}

interface RecordedProcess {
  name: string;
  pid: number;
  command: string;
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * Processes a fleet launcher left running when it was killed outright (SIGKILL gives it no chance to stop them):
 * stopped before a new start, so that their ports are free. Only pids whose command line is still the recorded one.
 */
async function stopLeftovers(pidsFile: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(pidsFile)) return;
  let recorded: RecordedProcess[];
  try {
    recorded = JSON.parse(readFileSync(pidsFile, 'utf8')) as RecordedProcess[];
  } catch {
    return;
  }
  const alive = recorded.filter((r) => commandLineOf(r.pid) === r.command);
  for (const r of alive) {
    log(`${r.name} (pid ${r.pid}) is still running from an earlier start: stopping it`);
    try {
      process.kill(-r.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 50 && alive.some((r) => commandLineOf(r.pid) === r.command); i++) await sleep(100);
  for (const r of alive) {
    try {
      process.kill(-r.pid, 'SIGKILL');
    } catch {
      // stopped by SIGTERM
    }
  }
}

async function requireFreePorts(ports: { port: number; what: string }[]): Promise<void> {
  const taken = [];
  for (const p of ports) if (await portOpen(p.port)) taken.push(`${p.port} (${p.what})`);
  if (taken.length > 0) {
    throw new UserFacingError(`port ${taken.join(', ')} already in use: stop what listens there, or choose other ports (TEMPORAL_PORT, HTTP_PORT, FLEET_POSTGRES_PORT)`);
  }
}

/**
 * The production topology on one machine: PostgreSQL, a Temporal server on it (persistence and SQL visibility),
 * the project's store on it, `retention setup`, then the workers and API instances as separate processes.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { log } = options;
  const logDir = path.join(options.dir, 'logs');
  const pidsFile = path.join(options.dir, 'pids.json');
  await mkdir(logDir, { recursive: true });
  await stopLeftovers(pidsFile, log);

  const postgres = await PostgresCluster.open(path.join(options.dir, 'postgres'), options.postgresPort);
  const started: ManagedProcess[] = [];
  const keepers: Keeper[] = [];
  let temporal: ManagedProcess | undefined;
  const recordPids = () =>
    writeFile(
      pidsFile,
      JSON.stringify(
        started.filter((p) => p.pid !== undefined).map((p) => ({ name: p.name, pid: p.pid, command: commandLineOf(p.pid as number) })),
      ),
    );
  const stop = async () => {
    await Promise.all(keepers.map((k) => k.stop()));
    const dependants = started.filter((p) => p !== temporal);
    await Promise.all(dependants.map((p) => p.stop(5000)));
    if (temporal) await temporal.stop(3000);
    await postgres.stop('fast', 5).catch((err: Error) => log(`PostgreSQL did not stop cleanly: ${err.message}`));
  };

  const checkpoint = () => {
    if (options.signal?.aborted) throw new FleetStartAborted('stopped while starting');
  };
  try {
    const created = await postgres.init();
    log(`PostgreSQL ${postgres.binaries}: ${created ? 'new cluster in' : 'cluster reused from'} ${postgres.dataDir}`);
    if (!(await postgres.running())) await requireFreePorts([{ port: options.postgresPort, what: 'PostgreSQL' }]);
    const wasDown = await postgres.start({ fsync: options.postgresFsync });
    log(`PostgreSQL on 127.0.0.1:${options.postgresPort}: ${wasDown ? 'started' : 'already running, reused'}`);

    checkpoint();
    const serverOptions = { dir: path.join(options.dir, 'temporal'), binaries: options.binaries, postgres, ports: options.temporalPorts };
    await ensureTemporalSchemas(serverOptions, log);
    const databaseUrl = postgres.urlFor(FLEET_STORE_DATABASE);
    log(`store database ${FLEET_STORE_DATABASE}: ${(await postgres.ensureDatabase(FLEET_STORE_DATABASE)) ? 'created' : 'exists'}`);

    checkpoint();
    const ports = options.temporalPorts;
    await requireFreePorts([
      ...Object.entries(ports).map(([what, port]) => ({ port, what: `Temporal ${what}` })),
      ...options.apiPorts.map((port, i) => ({ port, what: `API ${i + 1}` })),
    ]);
    temporal = await postgresTemporalProcess(serverOptions, logDir);
    started.push(temporal);
    await temporal.start();
    await recordPids();
    const temporalAddress = `127.0.0.1:${ports.frontend}`;
    log(`Temporal server ${temporalAddress} (all services in one process, PostgreSQL persistence and visibility), log ${temporal.logFile}`);

    checkpoint();
    await options.setup(temporalAddress, databaseUrl);

    checkpoint();
    const env: Record<string, string> = { ...options.env, TEMPORAL_ADDRESS: temporalAddress, DATABASE_URL: databaseUrl };
    const workers = Array.from({ length: options.workers }, (_, i) =>
      nodeTsProcess({
        name: `worker-${i + 1}`,
        entry: 'src/workers/main.ts',
        env,
        logDir,
        ready: logMatches(/worker polling task queue/),
        readyTimeoutMs: 120_000,
      }),
    );
    const apis = options.apiPorts.map((port, i) => {
      const url = `http://127.0.0.1:${port}`;
      const api = nodeTsProcess({
        name: `api-${i + 1}`,
        entry: 'src/triggers/http/main.ts',
        env: { ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), PUBLIC_BASE_URL: options.env.PUBLIC_BASE_URL ?? url },
        logDir,
        ready: async (p) => logMatches(/API on /)(p) && portOpen(port),
        readyTimeoutMs: 60_000,
      });
      return { process: api, port, url };
    });
    // The first process migrates the store; the others find it migrated and start side by side.
    const dependants = [...workers, ...apis.map((a) => a.process)];
    for (const batch of [dependants.slice(0, 1), dependants.slice(1)]) {
      checkpoint();
      started.push(...batch);
      await Promise.all(batch.map((p) => p.start()));
      await recordPids();
    }
    for (const p of workers) log(`${p.name} polling (pid ${p.pid}), log ${p.logFile}`);
    for (const a of apis) log(`${a.process.name} on ${a.url} (pid ${a.process.pid}), log ${a.process.logFile}`);
    checkpoint();
    if (options.restartOnExit !== false) {
      // pids.json names the restarted process too, so that the next start can stop it if this launcher dies.
      const refresh = () => recordPids().catch((err: Error) => log(`could not record the pids: ${err.message}`));
      for (const p of [temporal, ...workers, ...apis.map((a) => a.process)]) keepers.push(new Keeper(p, log, refresh));
    }
    return { postgres, temporal, temporalAddress, databaseUrl, workers, apis, logDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
