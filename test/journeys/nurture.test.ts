import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { customerEventSignal, journeyStateQuery } from '../../src/shared/messages';
import { parseDefinition } from '../../src/campaigns/catalog';
import { deliverCustomerEvent, startJourney } from '../../src/triggers/journeys';
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

describe('nurture journey', () => {
  let kit: JourneyTestKit;
  beforeEach(async () => {
    kit = await startJourneyKit([nurture()]);
  });
  afterEach(async () => {
    await kit?.close();
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

      await kit.store.setConsent(customer.id, 'email', false);
      await kit.store.setConsent(customer.id, 'sms', false);
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
});
