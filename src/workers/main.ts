import { runMain } from '../cli-errors';
import { loadConfig, requireSafeToServe } from '../config';
import { openProductionWorker } from './production-worker';

/**
 * `npm run worker`: polls the configured task queue until SIGINT/SIGTERM, then finishes in-flight tasks and exits.
 * The SDK's Runtime installs the signal handlers that begin a graceful shutdown. Namespace, search attributes and
 * schedules are prepared once per deploy by `retention setup`, not by every worker.
 */
runMain(async () => {
  const config = loadConfig();
  requireSafeToServe(config, 'worker');
  const { worker, close } = await openProductionWorker(config);
  try {
    console.log(`worker settings: ${JSON.stringify(config.worker)}`);
    console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (Ctrl-C to stop)`);
    await worker.run();
  } finally {
    await close();
  }
  console.log('worker stopped cleanly');
});
