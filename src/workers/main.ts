import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { connectWorker } from '../shared/temporal-connection';
import { createWorker } from './worker';

/**
 * `npm run worker`: polls the configured task queue until SIGINT/SIGTERM, then finishes in-flight tasks and exits.
 * The SDK's Runtime installs the signal handlers that begin a graceful shutdown.
 */
runMain(async () => {
  const config = loadConfig();
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (Ctrl-C to stop)`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  console.log('worker stopped cleanly');
});
