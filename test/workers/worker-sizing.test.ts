import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { JourneyDeps } from '../../src/activities';
import { loadConfig } from '../../src/config';
import { createWorker } from '../../src/workers/worker';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../harness';

describe('createWorker sizing (issue 11)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  // Activities are only registered, never run: no dependency is touched.
  const deps = { temporal: {} } as JourneyDeps;

  it('passes the configured cache and task slots to the SDK worker', async () => {
    const sizing = loadConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '120',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '12',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '34',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '56',
    }).worker;
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: uniqueTaskQueue('sizing'),
      deps,
      workflowBundle: workflowBundle(),
      sizing,
    });
    expect(worker.options.maxCachedWorkflows).toBe(120);
    // Task slots reach Core as fixed-size slot suppliers.
    expect(worker.options.tuner).toMatchObject({
      workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 12 },
      activityTaskSlotSupplier: { type: 'fixed-size', numSlots: 34 },
      localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 56 },
    });
    await worker.runUntil(Promise.resolve());
  });

  it('bounds the workflow cache by default, instead of the SDK default sized from the heap limit', async () => {
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: uniqueTaskQueue('sizing'),
      deps,
      workflowBundle: workflowBundle(),
      sizing: loadConfig({}).worker,
    });
    expect(worker.options.maxCachedWorkflows).toBe(loadConfig({}).worker.maxCachedWorkflows);
    await worker.runUntil(Promise.resolve());
  });
});
