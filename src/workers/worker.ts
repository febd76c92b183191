import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type JourneyDeps } from '../activities';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: JourneyDeps;
  /** Pre-built bundle (tests, production images); without it the worker bundles `src/workflows` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflow cache and task slots (config `worker`, WORKER_*); the SDK's defaults where absent. */
  sizing?: WorkerSizing;
}

export type WorkerSizing = Pick<
  WorkerOptions,
  'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentLocalActivityExecutions'
>;

export const workflowsPath = require.resolve('../workflows');

/** One worker that registers every workflow and activity of the product on the task queue. */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath }),
    activities: createActivities(setup.deps),
    ...setup.sizing,
  });
}
