import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { customerEventSignal, journeyStateQuery } from '../../src/shared/messages';
import { startJourney } from '../../src/triggers/journeys';
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
    anniversary: { every: '365 days', template: 'nurture/anniversary' },
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
      // Purchase on day 2 resets the 75-day inactivity clock: touches on days 30, 60 before the hand-over on day 77.
      expect(result.messagesSent).toBe(3);
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
      expect.stringMatching(/^touch-/),
    ]);
  });
});
