import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sampleActivities } from '../src/activities';
import { activatedSignal, sampleStateQuery } from '../src/shared/sample-messages';
import { createTestWorker, timeSkippingEnv, uniqueTaskQueue } from './harness';

const THREE_DAYS_MS = 3 * 24 * 3600 * 1000;

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
    const realStart = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute('sampleWorkflow', {
        taskQueue,
        workflowId: 'sample-c1',
        args: [{ customerId: 'c1', name: 'Ada', activationWindow: '3 days' }],
      }),
    );
    expect(result).toEqual({ activated: false, outcome: 'timed-out', greeting: 'Welcome aboard, Ada!' });
    // Three days of workflow time, not more: it closed when the window did. (The server's clock is no measure: once
    // nothing is pending it keeps skipping ahead, years after the workflow closed.)
    const { startTime, closeTime } = await env.client.workflow.getHandle('sample-c1').describe();
    const waited = (closeTime?.getTime() ?? Number.NaN) - startTime.getTime();
    expect(waited).toBeGreaterThanOrEqual(THREE_DAYS_MS);
    expect(waited).toBeLessThan(THREE_DAYS_MS + 60_000);
    // ...in seconds of real time: the server skipped the wait instead of sleeping through any of it.
    expect(Date.now() - realStart).toBeLessThan(30_000);
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
