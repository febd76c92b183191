import { openActivityDeps } from '../activities/deps';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { prepareWorkflowBundle } from './bundle';
import { createWorker } from './worker';

/**
 * `npm run worker`: polls the configured task queue until SIGINT/SIGTERM, then finishes in-flight tasks and exits.
 * The SDK's Runtime installs the signal handlers that begin a graceful shutdown. Namespace, search attributes and
 * schedules are prepared once per deploy by `retention setup`, not by every worker.
 */
runMain(async () => {
  const config = loadConfig();
  const connection = await connectWorker(config.temporal);
  const client = await connectClient(config.temporal);
  const { deps, close } = await openActivityDeps(config, client);
  const bundle = await prepareWorkflowBundle(config.workflowBundlePath);
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps,
      sizing: config.worker,
      workflowBundle: { codePath: bundle.codePath },
    });
    console.log(`worker settings: ${JSON.stringify(config.worker)}`);
    console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (Ctrl-C to stop)`);
    await worker.run();
  } finally {
    await bundle.dispose();
    await close();
    await client.connection.close();
    await connection.close();
  }
  console.log('worker stopped cleanly');
});
