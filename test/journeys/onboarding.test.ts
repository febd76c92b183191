import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseDefinition } from '../../src/campaigns/catalog';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { customerEventSignal, journeyStateQuery } from '../../src/shared/messages';
import { journeyWorkflowId, startJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, type JourneyTestKit } from './journey-env';

const onboarding = (overrides: Partial<CampaignDefinitionInput> = {}): CampaignDefinitionInput =>
  ({
    id: 'onboarding-test',
    version: 1,
    stage: 'onboarding',
    holdoutPercent: 0,
    steps: [
      { id: 'welcome', template: 'onboarding/welcome' },
      { id: 'tip-1', after: '1 day', template: 'onboarding/tip-1' },
      { id: 'tip-2', after: '2 days', template: 'onboarding/tip-2' },
      { id: 'tip-3', after: '3 days', template: 'onboarding/tip-3' },
    ],
    finalWait: '2 days',
    ...overrides,
  }) as CampaignDefinitionInput;

describe('onboarding journey (time skipping, real store, SMTP and Twilio-shaped servers)', () => {
  let kit: JourneyTestKit;
  beforeEach(async () => {
    kit = await startJourneyKit([onboarding()]);
  });
  afterEach(async () => {
    await kit?.close();
  });

  const start = (customerId: string) => startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId });

  it('sends the welcome and every tip over six days, then hands the customer to nurture', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const started = await start(customer.id);
      expect(started).toMatchObject({ workflowId: `onboarding-${customer.id}`, started: true });
      const t0 = await kit.env.currentTimeMs();
      const result = await kit.env.client.workflow.getHandle(started.workflowId).result();
      expect(result.outcome).toBe('completed');
      expect(result.messagesSent).toBe(4);
      expect((await kit.env.currentTimeMs()) - t0).toBeGreaterThanOrEqual(8 * 86_400_000);
      await kit.expectRunningAndStop(journeyWorkflowId('nurture', customer.id));
      await kit.saveHistory(started.workflowId, 'onboarding-completed');
    });
    // Onboarding's own messages: the nurture it hands over to may reach its first touch before it is stopped, as time skips.
    const onboardingEmails = kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string) && /^Message-ID:\s*<onboarding-/im.test(m.raw));
    expect(onboardingEmails).toHaveLength(4);
    const outcomes = await kit.store.listOutcomes({ workflowId: `onboarding-${customer.id}` });
    expect(outcomes.map((o) => `${o.status}:${o.step}`)).toEqual([
      'entered:start',
      'sent:welcome',
      'sent:tip-1',
      'sent:tip-2',
      'sent:tip-3',
      'completed:tip-3',
    ]);
  });

  it('exits early as converted when activation arrives, and still hands over to nurture', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('1 day');
      await kit.env.sleep('1 hour');
      const state = await handle.query(journeyStateQuery);
      expect(state).toMatchObject({ stage: 'onboarding', currentStep: 'tip-1', messagesSent: 2, outcome: 'in-progress' });
      expect(state.nextActionAt).toBeGreaterThan(await kit.env.currentTimeMs());
      await handle.signal(customerEventSignal, { type: 'activation' });
      const result = await kit.resultWithClockHeld(workflowId);
      expect(result).toMatchObject({ outcome: 'converted', messagesSent: 2 });
      await kit.expectRunningAndStop(`nurture-${customer.id}`);
    });
    const statuses = (await kit.store.listOutcomes({ workflowId: `onboarding-${customer.id}` })).map((o) => o.status);
    expect(statuses.filter((s) => s === 'sent')).toHaveLength(2);
    expect(statuses.at(-1)).toBe('converted');
  });

  it('never starts a second copy on a duplicate trigger', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const first = await start(customer.id);
      const second = await start(customer.id);
      expect(second).toEqual({ workflowId: first.workflowId, runId: first.runId, started: false });
      await kit.env.client.workflow.getHandle(first.workflowId).signal(customerEventSignal, { type: 'activation' });
      await kit.env.client.workflow.getHandle(first.workflowId).result();
    });
    expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(1);
  });

  it('ends the campaign on unsubscribe and sends nothing more', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('30 hours');
      await kit.store.setConsent(customer.id, 'email', false, { source: 'api' });
      await kit.store.setConsent(customer.id, 'sms', false, { source: 'api' });
      await handle.signal(customerEventSignal, { type: 'unsubscribe', channel: 'all' });
      expect(await handle.result()).toMatchObject({ outcome: 'unsubscribed', messagesSent: 2 });
    });
    expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(2);
  });

  it('sends nothing to a holdout customer but still tracks the exit event', async () => {
    const held = onboarding({ id: 'onboarding-holdout', holdoutPercent: 100 });
    kit.catalog.defaults.set('onboarding', parseDefinition(held, 'test'));
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('26 hours');
      expect(await handle.query(journeyStateQuery)).toMatchObject({ holdout: true, messagesSent: 0 });
      await handle.signal(customerEventSignal, { type: 'activation' });
      expect(await kit.resultWithClockHeld(workflowId)).toMatchObject({ outcome: 'converted', messagesSent: 0 });
      await kit.expectRunningAndStop(`nurture-${customer.id}`);
    });
    expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(0);
    const rows = await kit.store.listOutcomes({ workflowId: `onboarding-${customer.id}` });
    expect(rows.map((o) => `${o.status}:${o.reason ?? ''}:${o.holdout}`)).toEqual([
      'entered::true',
      'skipped:holdout:true',
      'skipped:holdout:true',
      'converted::true',
    ]);
  });

  it('enters the customer inside the first workflow task: the welcome is the first activity, scheduled by that task', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      await kit.env.sleep('1 hour');
      const events = (await kit.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const type = (e: (typeof events)[number]) => temporal.api.enums.v1.EventType[e.eventType ?? 0];
      const types = events.map(type);
      const firstActivity = types.indexOf('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
      const secondTask = types.indexOf('EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', types.indexOf('EVENT_TYPE_WORKFLOW_TASK_SCHEDULED') + 1);
      // Before: loadCustomer, then recordOutcome(entered), each an activity and a workflow task of its own.
      expect(events[firstActivity]?.activityTaskScheduledEventAttributes?.activityType?.name).toBe('sendMessage');
      expect(firstActivity).toBeLessThan(secondTask);
      // Each of these is a visibility write on the server: the step once, the memo once (before: 3 and 2).
      const visibilityUpdates = types.slice(0, secondTask).filter((t) => t === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES' || t === 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED');
      expect(visibilityUpdates).toEqual(['EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED', 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES']);
      const { searchAttributes } = await kit.env.client.workflow.getHandle(workflowId).describe();
      expect(searchAttributes).toMatchObject({ Outcome: ['in-progress'], CampaignStep: ['welcome'], LifecycleStage: ['onboarding'] });
      const markers = events.filter((e) => type(e) === 'EVENT_TYPE_MARKER_RECORDED').map((e) => e.markerRecordedEventAttributes?.markerName);
      expect(markers).toContain('core_local_activity');
      await kit.expectRunningAndStop(workflowId);
    });
    const rows = await kit.store.listOutcomes({ workflowId: `onboarding-${customer.id}` });
    expect(rows.map((o) => `${o.step}:${o.status}`)).toEqual(['start:entered', 'welcome:sent']);
  });

  it('enters the customer through an ordinary activity when the worker gives up the local one, and still sends once', async () => {
    await kit.close();
    const localAttempts: number[] = [];
    kit = await startJourneyKit([onboarding()], (product) => ({
      // The local attempt fails for good (as when the worker cancels it); the server-side activity works.
      async enterJourney(input) {
        if (Context.current().info.isLocal) {
          localAttempts.push(Context.current().info.attempt);
          throw ApplicationFailure.nonRetryable('store gone while the workflow task ran', 'StoreGone');
        }
        return product.enterJourney(input);
      },
    }));
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      await kit.env.sleep('1 hour');
      const events = (await kit.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const activityTypes = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(activityTypes).toEqual(['enterJourney', 'sendMessage']);
      await kit.expectRunningAndStop(workflowId);
    });
    expect(localAttempts).toEqual([1]);
    const rows = await kit.store.listOutcomes({ workflowId: `onboarding-${customer.id}` });
    expect(rows.map((o) => `${o.step}:${o.status}`)).toEqual(['start:entered', 'welcome:sent']);
    expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(1);
  });

  it('refuses to start for an unknown campaign stage input before anything runs', async () => {
    await expect(startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId: 'x', campaignId: 'no-such' })).rejects.toThrow(
      'no campaign "no-such"',
    );
    await expect(kit.env.client.workflow.getHandle('onboarding-x').describe()).rejects.toThrow(WorkflowNotFoundError);
  });
});
