import { loadCatalog } from '../campaigns/catalog';
import { runMain, UserFacingError } from '../cli-errors';
import { loadConfig, type Env } from '../config';
import { connectClient } from '../shared/temporal-connection';
import { setupOptionsFor, setupTemporal } from '../triggers/setup';
import { FleetStartAborted, startFleet, type Fleet, type FleetOptions } from './fleet';
import { portsAround } from './temporal-postgres';
import { describeServerBinaries, resolveTemporalServer } from './temporal-server-binaries';

/**
 * The fleet runs on this machine, its APIs on 127.0.0.1: unless told otherwise it is a development deployment, so the
 * built-in credentials are allowed. RETENTION_ENV=production makes its workers and APIs check like any other.
 */
function fleetEnv(env: Env, log: (line: string) => void): Record<string, string> {
  const product = productEnv(env);
  if (product.RETENTION_ENV === undefined) {
    log('RETENTION_ENV is not set: the fleet runs as development (built-in credentials allowed; set RETENTION_ENV=production to check like a deploy)');
    product.RETENTION_ENV = 'development';
  }
  return product;
}

/** The product's settings from this environment, for the workers and APIs (the fleet adds its own addresses). */
function productEnv(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

/** startFleet, or undefined when a signal stopped the start (what had started is stopped by then). */
async function startFleetOrAbort(options: FleetOptions): Promise<Fleet | undefined> {
  try {
    return await startFleet(options);
  } catch (err) {
    if (err instanceof FleetStartAborted) return undefined;
    throw err;
  }
}

/**
 * `npm run fleet`: the production topology in the foreground (PostgreSQL, a Temporal server on it, `retention setup`,
 * FLEET_WORKERS workers and FLEET_APIS API instances) until Ctrl-C or SIGTERM, which stop it all, dependants first.
 */
runMain(async () => {
  const config = loadConfig();
  const log = (line: string) => console.log(`fleet: ${line}`);
  const { fleet: settings } = config;
  const running: { stop?: () => Promise<void> } = {};
  const starting = new AbortController();
  const stopped = new Promise<void>((resolve) => {
    let firstSignalAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstSignalAt !== undefined) {
        // npm and tsx relay the terminal's Ctrl-C to this process, which also gets it from the terminal itself.
        if (Date.now() - firstSignalAt < 2000) return;
        log(`${signal} again: exiting now, leaving the rest to stop by itself`);
        process.exit(130);
      }
      firstSignalAt = Date.now();
      if (!running.stop) {
        log(`${signal}: stopping what has started so far`);
        starting.abort();
        return;
      }
      log(`${signal}: stopping the API instances and workers, then the Temporal server, then PostgreSQL`);
      const started = Date.now();
      void running.stop().then(() => {
        log(`stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  // Temporal keeps membership ports (TEMPORAL_PORT - 300 and up) in a smallint column.
  if (settings.temporalPort < 1324 || settings.temporalPort > 32_000) {
    throw new UserFacingError(`TEMPORAL_PORT: the fleet's Temporal server needs a port from 1324 to 32000 (got ${settings.temporalPort})`);
  }
  const binaries = await resolveTemporalServer({ serverPath: settings.serverPath, sqlToolPath: settings.sqlToolPath, log });
  log(describeServerBinaries(binaries));
  const apiPorts = Array.from({ length: settings.apis }, (_, i) => config.http.port + i);
  const fleet = await startFleetOrAbort({
    signal: starting.signal,
    dir: settings.dir,
    binaries,
    postgresPort: settings.postgresPort,
    temporalPorts: portsAround(settings.temporalPort),
    workers: settings.workers,
    apiPorts,
    env: fleetEnv(process.env, log),
    log,
    setup: async (temporalAddress) => {
      const fleetConfig = loadConfig({ ...process.env, TEMPORAL_ADDRESS: temporalAddress });
      const client = await connectClient(fleetConfig.temporal);
      try {
        const catalog = await loadCatalog(fleetConfig.campaignsDir);
        await setupTemporal(client, setupOptionsFor(fleetConfig, catalog), (line) => log(`setup: ${line}`));
      } finally {
        await client.connection.close();
      }
    },
  });
  if (!fleet) {
    log('stopped');
    return;
  }
  running.stop = fleet.stop;
  log(`ready. Point the CLI at it with: TEMPORAL_ADDRESS=${fleet.temporalAddress} DATABASE_URL=${fleet.databaseUrl}`);
  log(`API instances: ${fleet.apis.map((a) => a.url).join(', ')} (Ctrl-C to stop everything)`);
  await stopped;
});
