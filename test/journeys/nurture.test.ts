import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { createActivities, type Activities } from '../../src/activities';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { nextAnniversary } from '../../src/shared/anniversary';
import { customerEventSignal, journeyStateQuery } from '../../src/shared/messages';
import { parseDefinition } from '../../src/campaigns/catalog';
import { recordCustomerEvent } from '../../src/triggers/customer-events';
import { deliverCustomerEvent, startJourney } from '../../src/triggers/journeys';
import { createTestWorker } from '../harness';
import { seedCustomer, startJourneyKit, type JourneyTestKit } from './journey-env';

const nurture = (overrides: Partial<CampaignDefinitionInput> = {}): CampaignDefinitionInput =>
  ({
    id: 'nurture-test',
    version: 1,
    stage: 'nurture',
    holdoutPercent: 0,
    touch: { every: '30 days', template: 'nurture/touch' },
    loyalty: {
      pointsPerCurrencyUnit: 1,
      tiers: [
        { name: 'standard', minPoints: 0 },
        { name: 'silver', minPoints: 100 },
        { name: 'gold', minPoints: 300 },
      ],
      tierUpTemplate: 'nurture/tier-up',
    },
    anniversary: { every: '45 days', template: 'nurture/anniversary' },
    inactivity: { threshold: '75 days' },
    maxHistoryEvents: 60,
    ...overrides,
  }) as CampaignDefinitionInput;

/** Like kit.run, with some activities replaced (they get the real ones to delegate to). */
async function runWith<T>(kit: JourneyTestKit, replace: (real: Activities) => Partial<Activities>, fn: () => Promise<T>): Promise<T> {
  const real = createActivities(kit.deps);
  const worker = await createTestWorker(kit.env.nativeConnection, kit.taskQueue, { ...real, ...replace(real) });
  return worker.runUntil(fn);
}

async function logins(handle: WorkflowHandle, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await handle.signal(customerEventSignal, { type: 'login' });
}

describe('nurture journey', () => {
  let kit: JourneyTestKit;
  beforeEach(async () => {
    kit = await startJourneyKit([nurture()]);
  });
  afterEach(async () => {
    await kit?.close();
  });

  it('records a purchase and its points once, even when its event reaches a later run of nurture again', async () => {
    const customer = await seedCustomer(kit.store);
    const purchase = { type: 'purchase' as const, amount: 30, orderId: 'B-7', eventId: 'order:B-7' };
    await kit.run(async () => {
      for (let run = 0; run < 2; run++) {
        const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
        const handle = kit.env.client.workflow.getHandle(workflowId);
        await handle.signal(customerEventSignal, purchase);
        await kit.env.sleep('1 hour');
        // Points once: the second run starts from the stored 30 and does not add the same order again.
        expect((await handle.query(journeyStateQuery)).details.points).toBe(30);
        await kit.expectRunningAndStop(workflowId);
      }
    });
    // The second run does not know the event (its applied ids start empty), but the fact is the same order.
    const rows = await kit.store.listOutcomes({ customerId: customer.id, status: 'purchase' });
    expect(rows.map((o) => o.value)).toEqual([30]);
  });

  it('touches monthly, earns points and tiers from purchases, and hands an inactive customer to win-back', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('2 days');
      await handle.signal(customerEventSignal, { type: 'purchase', amount: 150 });
      await kit.env.sleep('1 hour');
      expect((await handle.query(journeyStateQuery)).details).toMatchObject({ points: 150, tier: 'silver', totalSpend: 150 });
      expect((await kit.store.getCustomer(customer.id))?.tier).toBe('silver');
      const result = await handle.result();
      expect(result.outcome).toBe('lapsed');
      // Purchase on day 2 resets the 75-day inactivity clock: touches on days 30 and 60 and the anniversary on day 45
      // (every 45 days in this definition) before the hand-over on day 77.
      expect(result.messagesSent).toBe(4);
      // maxHistoryEvents 60: the journey continued as new along the way and carried points, tier and counters.
      expect(result.details.generation).toBeGreaterThanOrEqual(1);
      expect(result.details).toMatchObject({ points: 150, tier: 'silver', totalSpend: 150 });
      await kit.expectRunningAndStop(`winback-${customer.id}`);
      await kit.saveHistory(workflowId, 'nurture-lapsed');
    });
    const outcomes = await kit.store.listOutcomes({ workflowId: `nurture-${customer.id}` });
    expect(outcomes.filter((o) => o.status === 'sent').map((o) => o.step)).toEqual([
      'tier-up-silver',
      expect.stringMatching(/^touch-/),
      expect.stringMatching(/^anniversary-/),
      expect.stringMatching(/^touch-/),
    ]);
  });

  it('starts nurture by signal-with-start when a purchase finds no journey, and a muted journey keeps tracking', async () => {
    const customer = await seedCustomer(kit.store);
    const muting = nurture({ id: 'nurture-mute', onUnsubscribe: 'mute' });
    kit.catalog.defaults.set('nurture', parseDefinition(muting, 'test'));
    await kit.run(async () => {
      const delivered = await deliverCustomerEvent(kit.env.client, kit.catalog, kit.taskQueue, customer.id, { type: 'purchase', amount: 120 });
      expect(delivered).toEqual({ deliveredTo: [`nurture-${customer.id}`] });
      const handle = kit.env.client.workflow.getHandle(`nurture-${customer.id}`);
      await kit.env.sleep('1 hour');
      // The event that started the journey was applied, not dropped: 120 points reach silver.
      expect((await handle.query(journeyStateQuery)).details).toMatchObject({ points: 120, tier: 'silver' });

      await kit.store.setConsent(customer.id, 'email', false, { source: 'api' });
      await kit.store.setConsent(customer.id, 'sms', false, { source: 'api' });
      await deliverCustomerEvent(kit.env.client, kit.catalog, kit.taskQueue, customer.id, { type: 'unsubscribe', channel: 'all' });
      await kit.env.sleep('31 days');
      const state = await handle.query(journeyStateQuery);
      expect(state).toMatchObject({ muted: true, outcome: 'in-progress' });
      await deliverCustomerEvent(kit.env.client, kit.catalog, kit.taskQueue, customer.id, { type: 'purchase', amount: 200 });
      await kit.env.sleep('1 hour');
      expect((await handle.query(journeyStateQuery)).details).toMatchObject({ points: 320, tier: 'gold' });
      await handle.terminate('test finished');
    });
    const outcomes = await kit.store.listOutcomes({ workflowId: `nurture-${customer.id}` });
    expect(outcomes.filter((o) => o.status === 'sent').map((o) => o.step)).toEqual(['tier-up-silver']);
    expect(outcomes.filter((o) => o.status === 'skipped').map((o) => `${o.step}:${o.reason}`)).toEqual([
      expect.stringMatching(/^touch-.*:unsubscribed$/),
      'tier-up-gold:unsubscribed',
    ]);
    expect(outcomes.filter((o) => o.status === 'purchase').map((o) => o.value)).toEqual([120, 200]);
  });

  it('continues as new when events other than purchases fill the history, before its next timer', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('1 hour');
      // maxHistoryEvents 60: 40 logins are far more than that, and the next timer (the touch) is 30 days away.
      await logins(handle, 40);
      await kit.env.sleep('1 hour');
      const state = await handle.query(journeyStateQuery);
      expect(state.details.generation).toBeGreaterThanOrEqual(1);
      expect(state.messagesSent).toBe(0);
      expect((await handle.describe()).historyLength).toBeLessThan(60);
      await handle.terminate('test finished');
    });
  });

  it('ends on an "end" unsubscribe that arrives during the activities of the iteration that continues as new', async () => {
    const customer = await seedCustomer(kit.store);
    const workflowId = `nurture-${customer.id}`;
    let interfered = false;
    const replace = (real: Activities): Partial<Activities> => ({
      async sendMessage(input) {
        if (!interfered && input.step.startsWith('touch-')) {
          interfered = true;
          const handle = kit.env.client.workflow.getHandle(workflowId);
          // Enough events that the history is full when the touch is done, then the unsubscribe.
          await logins(handle, 30);
          await handle.signal(customerEventSignal, { type: 'unsubscribe', channel: 'all' });
        }
        return real.sendMessage(input);
      },
    });
    await runWith(kit, replace, async () => {
      await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const result = await kit.env.client.workflow.getHandle(workflowId).result();
      expect(interfered).toBe(true);
      expect(result).toMatchObject({ outcome: 'unsubscribed', messagesSent: 1, details: { generation: 0 } });
    });
    const outcomes = await kit.store.listOutcomes({ workflowId });
    expect(outcomes.map((o) => o.status)).toContain('unsubscribed');
  });

  it('stores a channel preference, and a journey keeps its own across continue-as-new', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email' });
    const other = await seedCustomer(kit.store, { preferredChannel: 'email' });
    const ctx = { client: kit.env.client, catalog: kit.catalog, taskQueue: kit.taskQueue, store: kit.store };
    await kit.run(async () => {
      // Through the trigger service: stored, so every journey (and every later run) reads it.
      await recordCustomerEvent(ctx, other.id, { type: 'channel-preference', channel: 'sms' });
      expect((await kit.store.getCustomer(other.id))?.preferredChannel).toBe('sms');

      // Straight to the journey (the store still says email): the run after continue-as-new keeps SMS.
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('1 hour');
      await handle.signal(customerEventSignal, { type: 'channel-preference', channel: 'sms' });
      await logins(handle, 40);
      await kit.env.sleep('1 hour');
      expect((await handle.query(journeyStateQuery)).details.generation).toBeGreaterThanOrEqual(1);
      await kit.env.sleep('30 days');
      await handle.terminate('test finished');
    });
    const sent = (await kit.store.listOutcomes({ workflowId: `nurture-${customer.id}` })).filter((o) => o.status === 'sent');
    expect(sent.map((o) => `${o.step.replace(/-\d.*$/, '')}:${o.channel}`)).toEqual(['touch:sms']);
  });

  it('hands a won-back customer to a new nurture run even while the nurture that forwarded the purchase is still closing', async () => {
    const customer = await seedCustomer(kit.store);
    const nurtureId = `nurture-${customer.id}`;
    const ctx = { client: kit.env.client, catalog: kit.catalog, taskQueue: kit.taskQueue, store: kit.store };
    kit.deps.handBackWaitMs = 1_000;
    let closeNurture!: () => void;
    const nurtureMayClose = new Promise<void>((resolve) => (closeNurture = resolve));
    let handBacks = 0;
    const replace = (real: Activities): Partial<Activities> => ({
      async handOff(input) {
        if (input.to === 'winback') {
          await recordCustomerEvent(ctx, customer.id, { type: 'purchase', amount: 80, orderId: 'A-2002' }, new Date(Context.current().info.currentAttemptScheduledTimestampMs));
          return real.handOff(input);
        }
        // Win-back hands the customer back while the nurture that forwarded the purchase has not closed yet.
        handBacks++;
        try {
          return await real.handOff(input);
        } finally {
          closeNurture();
        }
      },
      async forwardCustomerEvents(input) {
        const result = await real.forwardCustomerEvents(input);
        await nurtureMayClose;
        return result;
      },
    });
    await runWith(kit, replace, async () => {
      const first = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      expect((await kit.env.client.workflow.getHandle(nurtureId, first.runId).result()).outcome).toBe('lapsed');
      expect(await kit.env.client.workflow.getHandle(`winback-${customer.id}`).result()).toMatchObject({ outcome: 'won-back' });
      expect(handBacks).toBeGreaterThanOrEqual(1);
      // Not left in no stage: a new nurture run is there.
      const now = await kit.env.client.workflow.getHandle(nurtureId).describe();
      expect(now.status.name).toBe('RUNNING');
      expect(now.runId).not.toBe(first.runId);
      await kit.expectRunningAndStop(nurtureId);
    });
  });

  it('forwards a purchase that arrives during the hand-off to win-back, which wins the customer back', async () => {
    const customer = await seedCustomer(kit.store);
    const nurtureId = `nurture-${customer.id}`;
    const ctx = { client: kit.env.client, catalog: kit.catalog, taskQueue: kit.taskQueue, store: kit.store };
    let deliveredTo: string[] = [];
    const replace = (real: Activities): Partial<Activities> => ({
      async handOff(input) {
        if (input.to === 'winback' && deliveredTo.length === 0) {
          // The customer buys while the hand-off runs: after nurture found them inactive, before win-back exists.
          const at = new Date(Context.current().info.currentAttemptScheduledTimestampMs);
          ({ deliveredTo } = await recordCustomerEvent(ctx, customer.id, { type: 'purchase', amount: 80, orderId: 'A-1001' }, at));
        }
        return real.handOff(input);
      },
    });
    await runWith(kit, replace, async () => {
      await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      expect((await kit.env.client.workflow.getHandle(nurtureId).result()).outcome).toBe('lapsed');
      const winback = await kit.env.client.workflow.getHandle(`winback-${customer.id}`).result();
      expect(deliveredTo).toEqual([nurtureId]);
      expect(winback).toMatchObject({ outcome: 'won-back', details: { wonBackWithAmount: 80 } });
      // Win-back handed the customer back: a new nurture run, which sees the purchase as the last activity.
      await kit.env.sleep('1 hour');
      expect((await kit.env.client.workflow.getHandle(nurtureId).query(journeyStateQuery)).outcome).toBe('in-progress');
      await kit.expectRunningAndStop(nurtureId);
    });
  });

  it('saves total spend with points and tier', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('1 hour');
      await handle.signal(customerEventSignal, { type: 'purchase', amount: 150 });
      await handle.signal(customerEventSignal, { type: 'purchase', amount: 70.5 });
      await kit.env.sleep('1 hour');
      await handle.terminate('test finished');
    });
    expect(await kit.store.getCustomer(customer.id)).toMatchObject({ points: 220, tier: 'silver', totalSpend: 220.5 });
  });

  it('schedules a yearly anniversary on the signup date at 10:00 in the customer\'s time zone', async () => {
    const yearly = nurture({ id: 'nurture-yearly', anniversary: { template: 'nurture/anniversary' } });
    kit.catalog.defaults.set('nurture', parseDefinition(yearly, 'test'));
    const customer = await seedCustomer(kit.store, { timezone: 'Asia/Tokyo' });
    const signup = customer.createdAt.getTime();
    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'nurture', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('1 hour');
      const at = (await handle.query(journeyStateQuery)).details.nextAnniversaryAt as number;
      // Computed in the workflow sandbox (Intl with a time zone) as in plain Node.
      expect(at).toBe(nextAnniversary({ hour: 10 }, signup, signup, 'Asia/Tokyo'));
      expect(new Date(at).toLocaleTimeString('en-GB', { timeZone: 'Asia/Tokyo' })).toBe('10:00:00');
      expect(at - signup).toBeGreaterThan(364 * 86_400_000);
      expect(at - signup).toBeLessThan(367 * 86_400_000);
      await handle.terminate('test finished');
    });
  });
});
