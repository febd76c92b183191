import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { customerEventSignal, journeyStateQuery, submitSurveyUpdate } from '../../src/shared/messages';
import { startJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, type JourneyTestKit } from './journey-env';

const winback = (overrides: Partial<CampaignDefinitionInput> = {}): CampaignDefinitionInput =>
  ({
    id: 'winback-test',
    version: 1,
    stage: 'winback',
    holdoutPercent: 0,
    inactiveDays: 60,
    steps: [
      { id: 'we-miss-you', template: 'winback/we-miss-you' },
      { id: 'offer', after: '3 days', template: 'winback/offer', includeOffer: true },
      { id: 'last-chance', after: '5 days', template: 'winback/last-chance', includeOffer: true },
    ],
    offer: { discountPercent: 15, validFor: '10 days' },
    finalWait: '5 days',
    churnSurvey: { template: 'winback/churn-survey', timeout: '7 days' },
    ...overrides,
  }) as CampaignDefinitionInput;

describe('win-back journey', () => {
  let kit: JourneyTestKit;
  beforeEach(async () => {
    kit = await startJourneyKit([winback()]);
  });
  afterEach(async () => {
    await kit?.close();
  });

  const start = (customerId: string) => startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'winback', customerId });
  const emailsTo = (address: string) => kit.smtp.messages.filter((m) => m.envelope.to.includes(address));

  it('exits as won back when a purchase arrives after the offer, and returns the customer to nurture', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('4 days');
      const state = await handle.query(journeyStateQuery);
      expect(state.currentStep).toBe('offer');
      expect(String(state.details.offerCode)).toMatch(/^WI-[0-9A-Z]+$/);
      await handle.signal(customerEventSignal, { type: 'purchase', amount: 42 });
      expect(await handle.result()).toMatchObject({ outcome: 'won-back', messagesSent: 2 });
      await kit.expectRunningAndStop(`nurture-${customer.id}`);
      await kit.saveHistory(workflowId, 'winback-won-back');
      // The offer email carried the code the journey reports.
      const offerMail = emailsTo(customer.email as string)[1]?.raw ?? '';
      expect(offerMail).toContain(String(state.details.offerCode));
    });
    const last = (await kit.store.listOutcomes({ workflowId: `winback-${customer.id}` })).at(-1);
    expect(last).toMatchObject({ status: 'won_back', value: 42, holdout: false });
  });

  it('records "no-answer" when the churn survey times out', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      expect(await kit.env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'churned', details: { churnReason: 'no-answer' } });
    });
  });

  it('ends as churned with the reason from the survey when nothing comes back', async () => {
    const customer = await seedCustomer(kit.store);
    await kit.run(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      await kit.env.sleep('14 days');
      await kit.env.sleep('1 hour');
      expect((await handle.query(journeyStateQuery)).currentStep).toBe('churn-survey');
      const refused = await handle.executeUpdate(submitSurveyUpdate, { args: [{ survey: 'csat', rating: 5 }] }).catch((err: Error) => err);
      expect((refused as Error).cause).toMatchObject({ message: 'this journey is not waiting for a csat answer' });
      expect(await handle.executeUpdate(submitSurveyUpdate, { args: [{ survey: 'churn-reason', reason: 'too expensive' }] })).toEqual({ accepted: true });
      expect(await handle.result()).toMatchObject({ outcome: 'churned', details: { churnReason: 'too expensive' } });
    });
    expect(emailsTo(customer.email as string)).toHaveLength(4);
    const last = (await kit.store.listOutcomes({ workflowId: `winback-${customer.id}` })).at(-1);
    expect(last).toMatchObject({ status: 'churned', reason: 'too expensive' });
  });
});
