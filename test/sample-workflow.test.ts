import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sampleActivities } from '../src/activities';
import { activatedSignal, sampleStateQuery } from '../src/shared/sample-messages';
import { createTestWorker, timeSkippingEnv, uniqueTaskQueue } from './harness';

describe('sampleWorkflow with time skipping', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs on the time-skipping server provisioned by the project', () => {
    expect(env.supportsTimeSkipping).toBe(true);
  });

  it('waits the full three days as written, then times out', async () => {
    const taskQueue = uniqueTaskQueue();
    const worker = await createTestWorker(env.nativeConnection, taskQueue, sampleActivities);
    const startedAt = await env.currentTimeMs();
    const realStart = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute('sampleWorkflow', {
        taskQueue,
        workflowId: 'sample-c1',
        args: [{ customerId: 'c1', name: 'Ada', activationWindow: '3 days' }],
      }),
    );
    expect(result).toEqual({ activated: false, outcome: 'timed-out', greeting: 'Welcome aboard, Ada!' });
    const skipped = (await env.currentTimeMs()) - startedAt;
    expect(skipped).toBeGreaterThanOrEqual(3 * 24 * 3600 * 1000);
    expect(Date.now() - realStart).toBeLessThan(3 * 24 * 3600 * 1000);
  });

  it('ends as activated when the signal arrives on day two', async () => {
    const taskQueue = uniqueTaskQueue();
    const worker = await createTestWorker(env.nativeConnection, taskQueue, sampleActivities);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('sampleWorkflow', {
        taskQueue,
        workflowId: 'sample-c2',
        args: [{ customerId: 'c2', name: 'Grace', activationWindow: '3 days' }],
      });
      await env.sleep('2 days');
      expect(await handle.query(sampleStateQuery)).toMatchObject({ outcome: 'waiting', activated: false });
      await handle.signal(activatedSignal);
      expect(await handle.result()).toMatchObject({ outcome: 'activated', activated: true });
    });
  });
});
