import { openActivityDeps } from '../activities/deps';
import { runMain, UserFacingError } from '../cli-errors';
import { loadConfig } from '../config';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { ensureSchedules } from '../triggers/schedules';
import { createWorker } from './worker';

/**
 * `npm run worker`: makes sure the schedules exist, then polls the configured task queue until SIGINT/SIGTERM,
 * then finishes in-flight tasks and exits. The SDK's Runtime installs the signal handlers that begin a graceful shutdown.
 */
runMain(async () => {
  const config = loadConfig();
  const connection = await connectWorker(config.temporal);
  const client = await connectClient(config.temporal);
  const { deps, close } = await openActivityDeps(config, client);
  try {
    // Idempotent: every deploy brings the schedules to the current campaign threshold and task queue.
    const ensured = await ensureSchedules(client, {
      taskQueue: config.temporal.taskQueue,
      catalog: deps.temporal.catalog,
      sweepHour: config.schedules.sweepHour,
      timezone: config.schedules.timezone,
    }).catch((err: Error) => {
      throw new UserFacingError(`cannot create or update the Temporal schedules, so the worker did not start: ${err.message}`);
    });
    for (const s of ensured) console.log(`schedule ${s.scheduleId} ${s.action}: ${s.description}`);
    const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, deps });
    console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (Ctrl-C to stop)`);
    await worker.run();
  } finally {
    await close();
    await client.connection.close();
    await connection.close();
  }
  console.log('worker stopped cleanly');
});
