import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { UserFacingError } from '../cli-errors';
import type { PostgresCluster } from './postgres-cluster';
import { baseEnv, ManagedProcess } from './supervisor';
import type { ServerBinaries } from './temporal-server-binaries';
import { portOpen } from './wait';
import { dynamicConfigYaml, serverDynamicConfig } from './server-settings';

const run = promisify(execFile);

/** Every port one Temporal server process listens on (all on 127.0.0.1). */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  /** Prometheus metrics (`/metrics`). */
  metrics: number;
}

/** Temporal's usual layout around a frontend port: 7233 gives 7234 history, 7235 matching, 6933.. membership. */
export function portsAround(frontend: number): TemporalServerPorts {
  return {
    frontend,
    frontendHttp: frontend + 10,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    frontendMembership: frontend - 300,
    historyMembership: frontend - 299,
    matchingMembership: frontend - 298,
    workerMembership: frontend - 294,
    metrics: frontend + 767,
  };
}

export interface PostgresTemporalOptions {
  /** Holds config/ (written at every start) and the server's log. */
  dir: string;
  binaries: ServerBinaries;
  postgres: PostgresCluster;
  ports: TemporalServerPorts;
  /** Databases in `postgres` for history/persistence and for visibility. */
  databases?: { persistence: string; visibility: string };
  /** Fixed when the persistence database is created; 4 is plenty for one box (production: 512 and up). */
  numHistoryShards?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

const DEFAULT_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' };

function datastore(database: string, port: number, maxConns: number): string {
  return `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "127.0.0.1:${port}"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
}

function service(grpcPort: number, membershipPort: number, httpPort?: number): string {
  return `
    rpc:
      grpcPort: ${grpcPort}
      membershipPort: ${membershipPort}
      bindOnLocalHost: true${httpPort === undefined ? '' : `\n      httpPort: ${httpPort}`}`;
}

/** The server's static configuration: PostgreSQL for persistence and for (advanced, SQL) visibility. */
export function serverConfigYaml(options: PostgresTemporalOptions, dynamicConfigFile: string): string {
  const { ports } = options;
  const db = options.databases ?? DEFAULT_DATABASES;
  return `# Written by the project at every start (src/dev/temporal-postgres.ts); edits are overwritten.
log:
  stdout: true
  level: ${options.logLevel ?? 'warn'}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.numHistoryShards ?? 4}
  datastores:
    postgres-default:${datastore(db.persistence, options.postgres.port, 20)}
    postgres-visibility:${datastore(db.visibility, options.postgres.port, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${ports.metrics}"

services:
  frontend:${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  matching:${service(ports.matching, ports.matchingMembership)}
  history:${service(ports.history, ports.historyMembership)}
  worker:${service(ports.worker, ports.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
      httpAddress: "127.0.0.1:${ports.frontendHttp}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${dynamicConfigFile}"
  pollInterval: "10s"
`;
}

/** Search attributes added by `retention setup` are seen at once instead of after the cache's refresh (60 s). */
const DYNAMIC_CONFIG = dynamicConfigYaml({ ...serverDynamicConfig, 'system.forceSearchAttributesCacheRefreshOnRead': true });

/**
 * Creates the two databases (when missing) and brings their schemas to the newest version embedded in the SQL tool:
 * `setup-schema -v 0.0` (versioning tables; refused harmlessly when they exist) then `update-schema`, both idempotent.
 */
export async function ensureTemporalSchemas(options: PostgresTemporalOptions, log: (line: string) => void): Promise<void> {
  const db = options.databases ?? DEFAULT_DATABASES;
  const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(options.postgres.port), '-u', 'postgres'];
  for (const [database, schema] of [
    [db.persistence, 'postgresql/v12/temporal'],
    [db.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    const created = await options.postgres.ensureDatabase(database);
    const tool = (args: string[]) => run(options.binaries.sqlTool, [...common, '--db', database, ...args], { maxBuffer: 16 * 1024 * 1024 });
    try {
      if (created) await tool(['setup-schema', '-v', '0.0']);
      await tool(['update-schema', '--schema-name', schema]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ') || String(err);
      throw new UserFacingError(`temporal-sql-tool could not prepare database ${database} (${schema}): ${stderr}`);
    }
    log(`database ${database}: ${created ? 'created, ' : ''}schema ${schema} up to date`);
  }
}

async function answersGrpc(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' });
  try {
    // The system namespace is created at the server's first start, before the frontend serves it.
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * One Temporal server process running all four services (frontend, history, matching, worker) on PostgreSQL.
 * On one machine separate service processes would only add memory and start-up time; a cluster splits them with
 * `start --service <name>` on the same configuration.
 */
export async function postgresTemporalProcess(options: PostgresTemporalOptions, logDir: string): Promise<ManagedProcess> {
  const configDir = path.join(options.dir, 'config');
  await mkdir(configDir, { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  await writeFile(dynamicConfigFile, DYNAMIC_CONFIG);
  await writeFile(path.join(configDir, 'production.yaml'), serverConfigYaml(options, dynamicConfigFile));
  const address = `127.0.0.1:${options.ports.frontend}`;
  return new ManagedProcess({
    name: 'temporal-server',
    command: options.binaries.server,
    args: ['--root', options.dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
    env: baseEnv(),
    cwd: options.dir,
    logDir,
    ready: async () => (await portOpen(options.ports.frontend)) && answersGrpc(address),
    readyTimeoutMs: 90_000,
  });
}
