import type { Worker } from '@temporalio/worker';
import { openActivityDeps } from '../activities/deps';
import type { JourneyDeps } from '../activities';
import type { AppConfig } from '../config';
import { connectClient, connectWorker } from '../shared/temporal-connection';
import { prepareWorkflowBundle } from './bundle';
import { createWorker } from './worker';

export interface ProductionWorker {
  worker: Worker;
  deps: JourneyDeps;
  /** Closes what the worker used (bundle, store, transports, connections); call after the worker has run. */
  close(): Promise<void>;
}

/**
 * The worker as `npm run worker` builds it from the configuration: connections, activity dependencies (which refuse
 * templates with problems), the workflow bundle and the sized worker. Nothing is left open when a step fails.
 */
export async function openProductionWorker(config: AppConfig): Promise<ProductionWorker> {
  const connection = await connectWorker(config.temporal);
  const client = await connectClient(config.temporal);
  const closeConnections = async () => {
    await client.connection.close();
    await connection.close();
  };
  let opened: Awaited<ReturnType<typeof openActivityDeps>> | undefined;
  let bundle: Awaited<ReturnType<typeof prepareWorkflowBundle>> | undefined;
  try {
    opened = await openActivityDeps(config, client);
    bundle = await prepareWorkflowBundle(config.workflowBundlePath);
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: opened.deps,
      sizing: config.worker,
      workflowBundle: { codePath: bundle.codePath },
    });
    const { deps, close } = opened;
    const codeBundle = bundle;
    return {
      worker,
      deps,
      async close() {
        await codeBundle.dispose();
        await close();
        await closeConnections();
      },
    };
  } catch (err) {
    await bundle?.dispose();
    await opened?.close();
    await closeConnections();
    throw err;
  }
}
