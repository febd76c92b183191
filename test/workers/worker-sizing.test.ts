import { once } from 'node:events';
import v8 from 'node:v8';
import { Worker as Thread } from 'node:worker_threads';
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

  it('limits the heap of the workflow thread it starts, not the heap of its own thread', async () => {
    const mainLimit = v8.getHeapStatistics().heap_size_limit;
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: uniqueTaskQueue('sizing'),
      deps,
      workflowBundle: workflowBundle(),
      sizing: { ...loadConfig({ WORKER_WORKFLOW_HEAP_MB: '300' }).worker },
    });
    await worker.runUntil(Promise.resolve());
    // A thread started after createWorker gets the limit the SDK's workflow thread got: 300 MB old space plus young space.
    const thread = new Thread("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)", { eval: true });
    const [limit] = (await once(thread, 'message')) as [number];
    await thread.terminate();
    expect(limit / 2 ** 20).toBeGreaterThanOrEqual(300);
    expect(limit / 2 ** 20).toBeLessThan(400);
    expect(v8.getHeapStatistics().heap_size_limit).toBe(mainLimit);
  });
});
