/**
 * The Temporal servers bench:scale runs against, each reduced to what the benchmark needs: an address, the PIDs whose
 * RSS is the server's, where its Prometheus metrics are (if anywhere) and how to stop it.
 *
 *  - dev:      `temporal server start-dev` on a SQLite file, started as test/chaos/temporal.ts startTemporal does (the
 *              CLI that src/dev/temporal-cli.ts finds, 127.0.0.1, the product's search attributes), plus a metrics port.
 *  - postgres: PostgreSQL and the Temporal server on it, as `npm run fleet` starts them (src/dev/postgres-cluster.ts,
 *              src/dev/temporal-postgres.ts), without the fleet's workers and APIs.
 *  - external: an already running server (`--temporal-address`, `--server-pids`, `--server-name`), prepared by the
 *              product's setup code as `retention setup` would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ManagedProcess, onEmergency } from '../../src/dev/supervisor';
import { answersGrpc, startTemporal } from '../../test/chaos/temporal';
import { freePort, portOpen } from '../../src/dev/wait';
import { setupOptionsFor, setupTemporal } from '../../src/triggers/setup';
import { loadCatalog } from '../../src/campaigns/catalog';
import { loadConfig } from '../../src/config';
import { FLEET_STORE_DATABASE } from '../../src/dev/fleet';
import { PostgresCluster } from '../../src/dev/postgres-cluster';
import { ensureTemporalSchemas, portsAround, postgresTemporalProcess, type TemporalServerPorts } from '../../src/dev/temporal-postgres';
import { resolveTemporalServer } from '../../src/dev/temporal-server-binaries';
import { connectClient } from '../../src/shared/temporal-connection';

export interface BenchServer {
  /** What the JSON calls it: `dev`, `postgres`, or --server-name. */
  name: string;
  address: string;
  namespace: string;
  /** The server's own processes (their VmRSS is summed as serverRssMb). */
  pids: () => number[];
  /** The processes of its persistence, when the bench started them (PostgreSQL): persistenceRssMb. */
  persistencePids?: () => number[];
  /** Prometheus text endpoint, when the server exposes one. */
  metricsUrl?: string;
  stop(): Promise<void>;
}


/** The dev server on a SQLite file in `dir` (as the chaos suite starts it), with `/metrics` on a port of its own. */
export async function startDevTemporal(dir: string, logDir: string): Promise<BenchServer> {
  const metricsPort = await freePort();
  const temporal = await startTemporal(dir, logDir, 'temporal', ['--metrics-port', String(metricsPort)]);
  const server = temporal.process;
  const address = temporal.address;
  return {
    name: 'dev',
    address,
    namespace: 'default',
    pids: () => (server.pid === undefined ? [] : [server.pid]),
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop: async () => {
      await server.stop(10_000);
    },
  };
}

/**
 * Prepares a server the bench did not start itself as a deploy would: `retention setup`'s code (namespace, search
 * attributes, the win-back schedule on the bench's task queue).
 */
async function setup(address: string, namespace: string, taskQueue: string, campaignsDir: string, log: (line: string) => void): Promise<void> {
  const config = loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue, CAMPAIGNS_DIR: campaignsDir });
  const client = await connectClient(config.temporal);
  try {
    await setupTemporal(client, setupOptionsFor(config, await loadCatalog(campaignsDir)), (line) => log(`setup: ${line}`));
  } finally {
    await client.connection.close();
  }
}

export interface ServerContext {
  dir: string;
  logDir: string;
  taskQueue: string;
  campaignsDir: string;
  log: (line: string) => void;
}

/** A server someone else runs: prepared by setup, never started or stopped here. */
export async function externalTemporal(
  ctx: ServerContext,
  options: { address: string; pids: number[]; name: string; metricsUrl?: string; namespace: string },
): Promise<BenchServer> {
  if (!(await answersGrpc(options.address).catch(() => false))) throw new Error(`--temporal-address: no Temporal server answers at ${options.address}`);
  await setup(options.address, options.namespace, ctx.taskQueue, ctx.campaignsDir, ctx.log);
  return { name: options.name, address: options.address, namespace: options.namespace, pids: () => options.pids, metricsUrl: options.metricsUrl, stop: async () => undefined };
}

/** The process ids of `root` and all its descendants (from /proc). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const pids: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return pids;
}

/** Ports around a frontend port (src/dev/temporal-postgres.ts portsAround) that are all free right now. */
async function freeTemporalPorts(): Promise<TemporalServerPorts> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Temporal stores membership ports as smallint: every port must stay below 32768.
    const frontend = 10_000 + Math.floor(Math.random() * 22_000);
    const ports = portsAround(frontend);
    const taken = await Promise.all(Object.values(ports).map((p) => portOpen(p)));
    if (!taken.some(Boolean)) return ports;
  }
  throw new Error('--server postgres: found no free set of ports for the Temporal server');
}

/**
 * `--server postgres`: the pieces `npm run fleet` is made of (src/dev/fleet.ts startFleet), without its workers and
 * API instances: a PostgreSQL cluster (src/dev/postgres-cluster.ts), Temporal's schemas, the Temporal server built from
 * go.temporal.io/server on it (persistence and SQL visibility, one process: src/dev/temporal-postgres.ts), then
 * `retention setup`. Its `retention` database is offered as the store (used with --store postgres).
 */
export async function startPostgresTemporal(ctx: ServerContext): Promise<BenchServer & { storeUrl: string }> {
  const binaries = await resolveTemporalServer({ serverPath: process.env.TEMPORAL_SERVER_PATH, sqlToolPath: process.env.TEMPORAL_SQL_TOOL_PATH, log: ctx.log });
  const base = path.join(ctx.dir, 'fleet');
  const postgres = await PostgresCluster.open(path.join(base, 'postgres'), await freePort());
  // A daemon: the supervisor's exit hook stops it too when the bench is interrupted.
  const forget = onEmergency(() => postgres.stopNowSync());
  let temporal: ManagedProcess | undefined;
  const stop = async () => {
    forget();
    await temporal?.stop(5000);
    await postgres.stop('fast', 10).catch((err: Error) => ctx.log(`PostgreSQL did not stop cleanly: ${err.message}`));
  };
  try {
    await postgres.init();
    await postgres.start({ fsync: false });
    const ports = await freeTemporalPorts();
    const serverOptions = { dir: path.join(base, 'temporal'), binaries, postgres, ports };
    await ensureTemporalSchemas(serverOptions, ctx.log);
    await postgres.ensureDatabase(FLEET_STORE_DATABASE);
    temporal = await postgresTemporalProcess(serverOptions, ctx.logDir);
    await temporal.start();
    const address = `127.0.0.1:${ports.frontend}`;
    ctx.log(`Temporal server ${address} on PostgreSQL 127.0.0.1:${postgres.port} (pid ${temporal.pid}), log ${temporal.logFile}`);
    await setup(address, 'default', ctx.taskQueue, ctx.campaignsDir, ctx.log);
    const server = temporal;
    const postmaster = () => {
      try {
        return Number(readFileSync(path.join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return undefined;
      }
    };
    return {
      name: 'postgres',
      address,
      namespace: 'default',
      pids: () => (server.pid === undefined ? [] : [server.pid]),
      persistencePids: () => {
        const pid = postmaster();
        return pid === undefined || !Number.isFinite(pid) ? [] : processTree(pid);
      },
      metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
      storeUrl: postgres.urlFor(FLEET_STORE_DATABASE),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
