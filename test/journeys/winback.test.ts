import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { customerEventSignal, journeyStateQuery, submitSurveyUpdate } from '../../src/shared/messages';
import { createActivities } from '../../src/activities';
import type { SendMessageInput } from '../../src/shared/activity-contracts';
import { startJourney } from '../../src/triggers/journeys';
import { createTestWorker } from '../harness';
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
      expect(await kit.resultWithClockHeld(handle.workflowId)).toMatchObject({ outcome: 'won-back', messagesSent: 2 });
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
      const refused = await handle.executeUpdate(submitSurveyUpdate, { args: [{ survey: 'csat', rating: 5 }, {}] }).catch((err: Error) => err);
      expect((refused as Error).cause).toMatchObject({ message: 'this journey is not waiting for a csat answer' });
      // A link from an earlier run of the win-back names that run: this run does not take its answer.
      const stale = await handle
        .executeUpdate(submitSurveyUpdate, { args: [{ survey: 'churn-reason', reason: 'found-alternative' }, { runId: 'an-earlier-run' }] })
        .catch((err: Error) => err);
      expect((stale as Error).cause).toMatchObject({ message: 'this survey link belongs to an earlier run of the journey' });
      // Only a reason of the campaign's list (here the default one): reports count these keys and nothing else.
      const unlisted = await handle
        .executeUpdate(submitSurveyUpdate, { args: [{ survey: 'churn-reason', reason: 'moved-abroad' }, {}] })
        .catch((err: Error) => err);
      expect((unlisted as Error).cause).toMatchObject({ message: expect.stringMatching(/^reason: expected one of too-expensive, .*, other$/) });
      expect(await handle.executeUpdate(submitSurveyUpdate, { args: [{ survey: 'churn-reason', reason: 'other', comment: 'Moved abroad' }, {}] })).toEqual({
        accepted: true,
      });
      expect(await handle.result()).toMatchObject({ outcome: 'churned', details: { churnReason: 'other' } });
    });
    expect(emailsTo(customer.email as string)).toHaveLength(4);
    const last = (await kit.store.listOutcomes({ workflowId: `winback-${customer.id}` })).at(-1);
    expect(last).toMatchObject({ status: 'churned', reason: 'other', data: { comment: 'Moved abroad' } });
  });

  it('a customer who lapses again gets a win-back of their own: every message again, a new offer code', async () => {
    const customer = await seedCustomer(kit.store);
    const address = customer.email as string;
    const codes: string[] = [];
    await kit.run(async () => {
      const first = kit.env.client.workflow.getHandle((await start(customer.id)).workflowId);
      await kit.env.sleep('1 day');
      codes.push(String((await first.query(journeyStateQuery)).details.offerCode));
      await first.signal(customerEventSignal, { type: 'purchase', amount: 20 });
      expect(await kit.resultWithClockHeld(first.workflowId)).toMatchObject({ outcome: 'won-back', messagesSent: 1 });
      await kit.expectRunningAndStop(`nurture-${customer.id}`);

      // Months later the customer lapses again: the same workflow id, a new run.
      const second = await start(customer.id);
      expect(second.started).toBe(true);
      const handle = kit.env.client.workflow.getHandle(second.workflowId);
      await kit.env.sleep('4 days');
      const state = await handle.query(journeyStateQuery);
      codes.push(String(state.details.offerCode));
      expect(state).toMatchObject({ currentStep: 'offer', messagesSent: 2 });
      await handle.terminate('test finished');
    });
    // we-miss-you (run 1), we-miss-you and the offer (run 2): nothing of run 2 was taken for already sent. Only win-back's
    // messages count: the nurture it handed the customer to may reach its first touch before it is stopped, as time skips.
    const winbackEmails = emailsTo(address).filter((m) => /^Message-ID:\s*<winback-/im.test(m.raw));
    expect(winbackEmails).toHaveLength(3);
    const ids = winbackEmails.map((m) => /^Message-ID:\s*(<[^>]+>)/im.exec(m.raw)?.[1]);
    expect(new Set(ids).size).toBe(3);
    expect(codes[0]).not.toBe(codes[1]);
    expect(winbackEmails[2]?.raw).toContain(codes[1]);
    const sent = await kit.store.listOutcomes({ workflowId: `winback-${customer.id}`, status: 'sent' });
    expect(sent.map((o) => o.step)).toEqual(['we-miss-you', 'we-miss-you', 'offer']);
  });

  it('takes a churn-survey answer that arrives while the survey message is still being sent', async () => {
    const customer = await seedCustomer(kit.store);
    const real = createActivities(kit.deps);
    const answered: unknown[] = [];
    const worker = await createTestWorker(kit.env.nativeConnection, kit.taskQueue, {
      ...real,
      // The customer is quick: the answer comes in after the provider took the message, before the activity returned.
      async sendMessage(input: SendMessageInput) {
        const result = await real.sendMessage(input);
        if (input.step === 'churn-survey') {
          const answer = kit.env.client.workflow
            .getHandle(input.workflowId)
            .executeUpdate(submitSurveyUpdate, { args: [{ survey: 'churn-reason', reason: 'too-expensive' }, { runId: input.runId }] });
          answered.push(await answer.catch((err: Error) => err.cause ?? err));
        }
        return result;
      },
    });
    await worker.runUntil(async () => {
      const { workflowId } = await start(customer.id);
      const handle = kit.env.client.workflow.getHandle(workflowId);
      expect(await handle.result()).toMatchObject({ outcome: 'churned', details: { churnReason: 'too-expensive' } });
    });
    expect(answered).toEqual([{ accepted: true }]);
  });
});
