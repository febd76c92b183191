import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sampleActivities } from '../src/activities';
import { UserFacingError } from '../src/cli-errors';
import { activateSample, sampleState, startSample } from '../src/triggers/sample';
import { createTestWorker, devServerEnv, uniqueTaskQueue } from './harness';

describe('sample workflow end to end on the real dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('is started by the trigger, steered by a signal, completes, and is findable by search attributes', async () => {
    const taskQueue = uniqueTaskQueue();
    const customerId = `e2e-${Date.now()}`;
    const worker = await createTestWorker(env.nativeConnection, taskQueue, sampleActivities);
    await worker.runUntil(async () => {
      const handle = await startSample(env.client, taskQueue, { customerId, name: 'Lin', activationWindow: '1 minute' });
      expect(handle.workflowId).toBe(`sample-${customerId}`);
      await expect(startSample(env.client, taskQueue, { customerId, name: 'Lin' })).rejects.toThrow(UserFacingError);
      await activateSample(env.client, customerId);
      expect(await handle.result()).toEqual({ activated: true, outcome: 'activated', greeting: 'Welcome aboard, Lin!' });
      expect((await sampleState(env.client, customerId)).outcome).toBe('activated');
    });

    // Visibility is eventually consistent: poll briefly for the search-attribute query.
    const query = `CustomerId = "${customerId}" AND LifecycleStage = "sample" AND Outcome = "activated"`;
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([`sample-${customerId}`]);
  });

  it('refuses bad input before starting anything, naming the field', async () => {
    const taskQueue = uniqueTaskQueue();
    await expect(startSample(env.client, taskQueue, { customerId: 'has spaces', name: '' })).rejects.toThrow(
      /customerId: expected 1-64 letters.*; name:/,
    );
  });
});
