import v8 from 'node:v8';
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
> & {
  /**
   * Heap limit (MB) of the workflow thread the SDK starts in Worker.create, where the cached workflows live. The SDK
   * gives no option for it: a V8 flag set before the thread starts applies to threads started afterwards (this
   * process's main thread keeps its own limit).
   */
  workflowHeapMb?: number;
};

export const workflowsPath = require.resolve('../workflows');

/**
 * How the workflow bundle is built (the worker at start, the test harness, pre-built bundles). zod is loaded once per
 * workflow thread and shared by every workflow in it, instead of being evaluated again for each new workflow: with
 * the SDK's reused V8 context each workflow gets fresh copies of the bundle's modules, and zod's module set-up was the
 * largest part of starting a journey. zod keeps no per-workflow state (schemas are built per call, the SDK freezes what
 * the module exports).
 */
export const workflowBundlerOptions = { preloadModules: [require.resolve('../workflows/preload')] };

/** One worker that registers every workflow and activity of the product on the task queue. */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const { workflowHeapMb, ...sizing } = setup.sizing ?? {};
  if (workflowHeapMb !== undefined) v8.setFlagsFromString(`--max-old-space-size=${workflowHeapMb}`);
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath, bundlerOptions: workflowBundlerOptions }),
    activities: createActivities(setup.deps),
    ...sizing,
  });
}
