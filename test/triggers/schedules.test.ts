import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type JourneyDeps } from '../../src/activities';
import { loadCatalog, parseDefinition, type CampaignCatalog } from '../../src/campaigns/catalog';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import type { SweepProgress } from '../../src/shared/sweep-contracts';
import { createStore, type Store } from '../../src/store';
import { NotFoundError } from '../../src/triggers/errors';
import { ensureSchedules, listSchedules, triggerSchedule, WINBACK_SWEEP_SCHEDULE_ID } from '../../src/triggers/schedules';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTestWorker, devServerEnv, uniqueTaskQueue } from '../harness';
import { buildTestJourneyDeps } from '../harness/journey-deps';
import { seedCustomer } from '../journeys/journey-env';

const DAY = 86_400_000;

const winback: CampaignDefinitionInput = {
  id: 'winback-schedule-test',
  version: 1,
  stage: 'winback',
  holdoutPercent: 0,
  inactiveDays: 45,
  steps: [{ id: 'we-miss-you', template: 'winback/we-miss-you' }],
  offer: { discountPercent: 15, validFor: '10 days' },
  finalWait: '5 days',
  churnSurvey: { template: 'winback/churn-survey', timeout: '7 days' },
};

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('schedules (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let store: Store;
  let smtp: FakeSmtpServer;
  let twilio: FakeTwilioServer;
  let catalog: CampaignCatalog;
  let deps: JourneyDeps;
  let taskQueue: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'schedules-'));
    [env, smtp, twilio, store] = await Promise.all([
      devServerEnv(),
      startSmtpServer(),
      startTwilioServer(),
      createStore(`sqlite:${path.join(dir, 'store.sqlite')}`),
    ]);
    await store.migrate();
    catalog = await loadCatalog(path.resolve('campaigns'));
    const entry = parseDefinition(winback, 'test');
    catalog.byId.set(entry.definition.id, entry);
    catalog.defaults.set('winback', entry);
    taskQueue = uniqueTaskQueue('schedules');
    deps = buildTestJourneyDeps({ store, smtp, twilio, client: env.client, taskQueue, catalog, dir });
  });

  afterEach(async () => {
    await env.client.schedule
      .getHandle(WINBACK_SWEEP_SCHEDULE_ID)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  });

  afterAll(async () => {
    deps?.email.close();
    await Promise.allSettled([store?.close(), smtp?.close(), twilio?.close()]);
    await env?.teardown();
  });

  it('creates the daily sweep schedule once and brings it to the configured spec on every ensure', async () => {
    const first = await ensureSchedules(env.client, { taskQueue, catalog });
    expect(first).toEqual([expect.objectContaining({ scheduleId: WINBACK_SWEEP_SCHEDULE_ID, action: 'created' })]);
    const again = await ensureSchedules(env.client, { taskQueue, catalog });
    expect(again).toEqual([expect.objectContaining({ scheduleId: WINBACK_SWEEP_SCHEDULE_ID, action: 'updated' })]);

    const handle = env.client.schedule.getHandle(WINBACK_SWEEP_SCHEDULE_ID);
    const described = await handle.describe();
    expect(described.spec.timezone).toBe('UTC');
    expect(described.spec.calendars).toHaveLength(1);
    expect(described.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 6, end: 6 }], minute: [{ start: 0, end: 0 }] });
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.action).toMatchObject({ workflowType: 'winbackSweepWorkflow', taskQueue, args: [{ inactiveDays: 45 }] });
    expect(described.state.note).toContain('inactive more than 45 days');
    expect(described.info.nextActionTimes[0]?.getUTCHours()).toBe(6);

    const listed = await eventually(
      () => listSchedules(env.client),
      (all) => all.some((s) => s.scheduleId === WINBACK_SWEEP_SCHEDULE_ID),
    );
    expect(listed.filter((s) => s.scheduleId === WINBACK_SWEEP_SCHEDULE_ID)).toEqual([
      expect.objectContaining({ workflowType: 'winbackSweepWorkflow', paused: false }),
    ]);

    // A changed hour is applied to the existing schedule, and an operator's pause survives the update.
    await handle.pause('paused by the test');
    await ensureSchedules(env.client, { taskQueue, catalog, sweepHour: 9 });
    const updated = await handle.describe();
    expect(updated.spec.calendars).toHaveLength(1);
    expect(updated.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 9, end: 9 }] });
    expect(updated.state.paused).toBe(true);
  });

  it('refuses bad options with an error naming the field', async () => {
    await expect(ensureSchedules(env.client, { taskQueue, catalog, sweepHour: 24 })).rejects.toThrow(/sweepHour/);
    await expect(triggerSchedule(env.client, 'no-such-schedule')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('runs the sweep when triggered: lapsed customers get a win-back journey', async () => {
    const now = Date.now();
    const lapsed = await Promise.all([1, 2, 3].map(() => seedCustomer(store, { lastActivityAt: new Date(now - 50 * DAY) })));
    const recent = await seedCustomer(store, { lastActivityAt: new Date(now - 40 * DAY) });
    await ensureSchedules(env.client, { taskQueue, catalog, sweep: { pageSize: 2 } });

    const worker = await createTestWorker(env.nativeConnection, taskQueue, createActivities(deps));
    await worker.runUntil(async () => {
      const { workflowId } = await triggerSchedule(env.client, WINBACK_SWEEP_SCHEDULE_ID);
      expect(workflowId).toMatch(/^winback-sweep-/);
      const result: SweepProgress = await env.client.workflow.getHandle(workflowId as string).result();
      try {
        expect(result).toMatchObject({ inactiveDays: 45, customersSeen: 3, started: 3, alreadyRunning: 0, failed: 0, pages: 2, done: true });
        for (const customer of lapsed) {
          const description = await env.client.workflow.getHandle(`winback-${customer.id}`).describe();
          expect(description.status.name).toBe('RUNNING');
          expect(description.taskQueue).toBe(taskQueue);
        }
        await expect(env.client.workflow.getHandle(`winback-${recent.id}`).describe()).rejects.toThrow(/not found/i);
        // Each started journey sent its first message through the real SMTP client.
        const recipients = () => Promise.resolve(smtp.messages.flatMap((m) => m.envelope.to));
        const reached = await eventually(recipients, (to) => lapsed.every((c) => to.includes(c.email as string)));
        expect(lapsed.filter((c) => reached.includes(c.email as string))).toHaveLength(3);
        expect(reached).not.toContain(recent.email);
      } finally {
        for (const customer of lapsed) {
          await env.client.workflow
            .getHandle(`winback-${customer.id}`)
            .terminate('test finished')
            .catch(() => undefined);
        }
      }
    });
  });
});
