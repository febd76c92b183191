import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadCatalog } from '../../src/campaigns/catalog';
import { loadConfig } from '../../src/config';
import { startFleet } from '../../src/dev/fleet';
import { portsAround, type TemporalServerPorts } from '../../src/dev/temporal-postgres';
import { resolveTemporalServer } from '../../src/dev/temporal-server-binaries';
import { connectClient } from '../../src/shared/temporal-connection';
import { setupOptionsFor, setupTemporal } from '../../src/triggers/setup';
import { ApiClient } from './api-client';
import { startOutsideWorld } from './outside-world';
import { API_TOKEN, chaosTaskQueue, productEnv, WEBHOOK_SECRET, type Stack } from './stack';
import { TemporalServer } from './temporal';
import { freePort, progress } from './util';

/** Every port of the fleet's Temporal server free now (a fixed layout could collide with another scenario). */
async function freeTemporalPorts(): Promise<TemporalServerPorts> {
  const keys = Object.keys(portsAround(0)) as (keyof TemporalServerPorts)[];
  const free = await Promise.all(keys.map(() => freePort()));
  return Object.fromEntries(keys.map((k, i) => [k, free[i]])) as unknown as TemporalServerPorts;
}

/**
 * The production topology as `npm run fleet` starts it (src/dev/fleet.ts): PostgreSQL, a Temporal server built from
 * go.temporal.io/server on it, the store on it, `retention setup`, two workers and two API instances, with the
 * suite's fakes as providers. Nothing restarts a process the scenario kills unless the scenario does.
 */
export async function startFleetStack(options: { name: string; runDir: string; templatesDir: string }): Promise<Stack> {
  const dir = path.join(options.runDir, options.name);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, who must be able to reach its folder inside the run's.
  if (process.getuid?.() === 0) for (const d of [options.runDir, dir]) await chmod(d, 0o755);
  const taskQueue = chaosTaskQueue(options.name);
  const [world, binaries, temporalPorts, postgresPort, apiPorts] = await Promise.all([
    startOutsideWorld(dir, logDir),
    resolveTemporalServer({ serverPath: process.env.TEMPORAL_SERVER_PATH, sqlToolPath: process.env.TEMPORAL_SQL_TOOL_PATH, allowBuild: false }),
    freeTemporalPorts(),
    freePort(),
    Promise.all([freePort(), freePort()]),
  ]);
  const env = productEnv({ dir, taskQueue, templatesDir: options.templatesDir, world, emailInDoubt: 'resend' });
  try {
    const fleet = await startFleet({
      dir: path.join(dir, 'fleet'),
      binaries,
      postgresPort,
      temporalPorts,
      workers: 2,
      apiPorts,
      env,
      postgresFsync: false,
      restartOnExit: false,
      log: (line) => progress(`${options.name}: ${line}`),
      setup: async (temporalAddress) => {
        const config = loadConfig({ ...env, TEMPORAL_ADDRESS: temporalAddress });
        const client = await connectClient(config.temporal);
        try {
          await setupTemporal(client, setupOptionsFor(config, await loadCatalog(config.campaignsDir)));
        } finally {
          await client.connection.close();
        }
      },
    });
    const temporal = new TemporalServer(fleet.temporal, temporalPorts.frontend, '(PostgreSQL)');
    const clients = fleet.apis.map((a) => new ApiClient(a.url, API_TOKEN, WEBHOOK_SECRET));
    const [worker, api, client] = [fleet.workers[0], fleet.apis[0]?.process, clients[0]];
    if (!worker || !api || !client) throw new Error('the fleet started without a worker or an API');
    return {
      name: options.name,
      dir,
      logDir: fleet.logDir,
      taskQueue,
      databaseUrl: fleet.databaseUrl,
      emailInDoubt: 'resend',
      temporal,
      world,
      worker,
      api,
      client,
      workers: fleet.workers,
      apis: fleet.apis.map((a) => a.process),
      clients,
      async stop() {
        await temporal.closeClient();
        await fleet.stop();
        await world.stop();
      },
    };
  } catch (err) {
    await world.stop();
    throw err;
  }
}
