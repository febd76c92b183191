import { surveyLink } from '../../src/activities/links';
import { unsubscribeUrl } from '../../src/delivery/unsubscribe-token';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { journeyStateQuery } from '../../src/shared/messages';
import { openComplaint, reportComplaintProgress } from '../../src/triggers/complaints';
import { journeyRunId, startJourney } from '../../src/triggers/journeys';
import { recordCustomerEvent } from '../../src/triggers/customer-events';
import { seedCustomer } from '../journeys/journey-env';
import { eventually, PUBLIC_BASE_URL, QUIET_COMPLAINT, startApiKit, type ApiKit } from './api-kit';

const onboarding: CampaignDefinitionInput = {
  id: 'api-links-onboarding',
  version: 1,
  stage: 'onboarding',
  holdoutPercent: 0,
  onUnsubscribe: 'mute',
  steps: [
    { id: 'welcome', template: 'onboarding/welcome' },
    { id: 'tip-1', after: '1 hour', template: 'onboarding/tip-1' },
  ],
  finalWait: '1 hour',
};

/** Path and query of an absolute link, for app.inject. */
const pathOf = (link: string) => {
  const url = new URL(link);
  return url.pathname + url.search;
};
const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

let ticketCounter = 0;

describe('signed customer links', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [onboarding, QUIET_COMPLAINT], env: { BRAND_NAME: 'Shop & Co' } });
  });
  afterAll(() => kit?.close());

  const unsubscribe = (customerId: string, channel: 'email' | 'sms') => pathOf(unsubscribeUrl(PUBLIC_BASE_URL, kit.config.linkSigningSecret, customerId, channel));
  // A link names the journey run it answers; a journey that does not exist has none.
  const survey = async (workflowId: string, kind: string) => {
    const runId = await journeyRunId(kit.env.client, workflowId).catch(() => 'no-such-run');
    return pathOf(surveyLink(PUBLIC_BASE_URL, kit.config.linkSigningSecret, { workflowId, runId }, kind));
  };
  const state = (workflowId: string) => kit.env.client.workflow.getHandle(workflowId).query(journeyStateQuery).catch(() => undefined);

  describe('unsubscribe', () => {
    it('GET shows a confirmation page that posts back, and changes nothing', async () => {
      const customer = await seedCustomer(kit.store);
      const response = await kit.app.inject({ method: 'GET', url: unsubscribe(customer.id, 'email') });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('<form method="post">');
      expect(response.body).toContain('name="List-Unsubscribe" value="One-Click"');
      // Brand name escaped, no external assets.
      expect(response.body).toContain('Shop &#38; Co');
      expect(response.body).not.toMatch(/(src|href)=["']?https?:/);
      expect((await kit.store.getCustomer(customer.id))?.consentEmail).toBe(true);
    });

    it('POST (RFC 8058 one-click) withdraws consent for the channel and the running journey goes quiet', async () => {
      // Email is the only consented channel: withdrawing it mutes the journey.
      const customer = await seedCustomer(kit.store, { consentSms: false });
      const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
      await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'sent' }))[0], 20_000, 'welcome sent');
      expect((await state(workflowId))?.muted).toBe(false);

      const response = await kit.app.inject({ method: 'POST', url: unsubscribe(customer.id, 'email'), ...form({ 'List-Unsubscribe': 'One-Click' }) });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('You are unsubscribed');
      const profile = await kit.store.getCustomer(customer.id);
      expect(profile).toMatchObject({ consentEmail: false, consentSms: false });
      await eventually(async () => ((await state(workflowId))?.muted ? true : undefined), 15_000, 'journey muted');

      // Doing it again is harmless.
      expect((await kit.app.inject({ method: 'POST', url: unsubscribe(customer.id, 'email'), ...form({ 'List-Unsubscribe': 'One-Click' }) })).statusCode).toBe(200);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
    });

    it('suppresses the address on an email one-click: another customer with it is not mailed, until the owner resubscribes', async () => {
      const owner = await seedCustomer(kit.store);
      const email = owner.email as string;
      // No SMS consent: the step's fallback to SMS cannot carry the message instead.
      const other = await seedCustomer(kit.store, { email, consentSms: false });
      const response = await kit.app.inject({ method: 'POST', url: unsubscribe(owner.id, 'email'), ...form({ 'List-Unsubscribe': 'One-Click' }) });
      expect(response.statusCode).toBe(200);
      expect(await kit.store.isSuppressed('email', email)).toBe(true);
      expect((await kit.store.getCustomer(other.id))?.consentEmail).toBe(true);

      const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: other.id });
      const skipped = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'skipped' }))[0], 20_000, 'welcome skipped');
      expect(skipped.reason).toBe('email-suppressed');
      expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(email))).toHaveLength(0);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');

      await recordCustomerEvent(kit.ctx, owner.id, { type: 'resubscribe', channel: 'email' });
      expect(await kit.store.isSuppressed('email', email)).toBe(false);
    });

    it('takes the one-click POST as multipart/form-data too, and touches only the link\'s channel', async () => {
      const customer = await seedCustomer(kit.store);
      const boundary = 'x-boundary-1';
      const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
      const response = await kit.app.inject({
        method: 'POST',
        url: unsubscribe(customer.id, 'sms'),
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expect(response.statusCode).toBe(200);
      expect(await kit.store.getCustomer(customer.id)).toMatchObject({ consentSms: false, consentEmail: true });
    });

    it('refuses a forged or altered link with 403, an incomplete one with 400, and 404s an unknown customer', async () => {
      const customer = await seedCustomer(kit.store);
      const good = new URL(unsubscribe(customer.id, 'email'), PUBLIC_BASE_URL);
      const otherChannel = `/unsubscribe?c=${encodeURIComponent(customer.id)}&ch=sms&t=${good.searchParams.get('t')}`;
      for (const method of ['GET', 'POST'] as const) {
        const forged = await kit.app.inject({ method, url: `/unsubscribe?c=${encodeURIComponent(customer.id)}&ch=email&t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` });
        expect(forged.statusCode).toBe(403);
        expect(forged.headers['content-type']).toMatch(/^text\/html/);
        expect((await kit.app.inject({ method, url: otherChannel })).statusCode).toBe(403);
        expect((await kit.app.inject({ method, url: `/unsubscribe?c=${encodeURIComponent(customer.id)}` })).statusCode).toBe(400);
        expect((await kit.app.inject({ method, url: `/unsubscribe?c=a&c=b&ch=email&t=x` })).statusCode).toBe(400);
        expect((await kit.app.inject({ method, url: unsubscribe('no-such-customer', 'email') })).statusCode).toBe(404);
      }
      expect(await kit.store.getCustomer(customer.id)).toMatchObject({ consentEmail: true, consentSms: true });
    });
  });

  describe('surveys', () => {
    it('takes a CSAT answer from the form once the complaint journey waits for it, and says so on a second click', async () => {
      const customer = await seedCustomer(kit.store);
      const ticketId = `L-${Date.now().toString(36)}-${++ticketCounter}`;
      const { workflowId } = await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
      const link = await survey(workflowId, 'csat');
      await eventually(async () => ((await state(workflowId))?.currentStep === 'awaiting-first-response' ? true : undefined), 20_000, 'complaint open');

      // Too early: the journey is not asking yet.
      const early = await kit.app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rating: 5 }) });
      expect(early.statusCode).toBe(409);
      expect(early.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });

      await reportComplaintProgress(kit.ctx, ticketId, { type: 'resolved', note: 'Refund issued.' });
      // Waiting for the answer: the survey went out and the journey sleeps on its timeout.
      await eventually(async () => {
        const s = await state(workflowId);
        return s?.currentStep === 'csat-survey' && s.nextActionAt !== undefined ? true : undefined;
      }, 20_000, 'waiting for CSAT');

      const page = await kit.app.inject({ method: 'GET', url: link });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<form method="post">');
      for (const n of [1, 2, 3, 4, 5]) expect(page.body).toContain(`name="rating" value="${n}"`);

      const invalid = await kit.app.inject({ method: 'POST', url: link, ...form({ rating: '7' }) });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.body).toContain('rating');

      const answered = await kit.app.inject({ method: 'POST', url: link, ...form({ rating: '4', comment: 'Quick <b>refund</b>' }) });
      expect(answered.statusCode).toBe(200);
      expect(answered.body).toContain('Your answer has been recorded.');

      const csat = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'csat' }))[0], 15_000, 'csat outcome');
      expect(csat).toMatchObject({ value: 4, customerId: customer.id, data: { comment: 'Quick <b>refund</b>' } });
      const result = await kit.env.client.workflow.getHandle(workflowId).result();
      expect(result).toMatchObject({ outcome: 'resolved', details: { csat: 4 } });

      const again = await kit.app.inject({ method: 'POST', url: link, ...form({ rating: '1' }) });
      expect(again.statusCode).toBe(200);
      expect(again.body).toContain('We already have your answer.');
      expect(await kit.store.listOutcomes({ workflowId, status: 'csat' })).toHaveLength(1);
    });

    it('shows the churn-reason form', async () => {
      const customer = await seedCustomer(kit.store, { consentSms: false });
      const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
      const page = await kit.app.inject({ method: 'GET', url: await survey(workflowId, 'churn-reason') });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="reason" value="too-expensive"');
      expect(page.body).toContain('name="other"');
      // An onboarding journey never asks for a churn reason: the answer is refused, not lost silently.
      const answer = await kit.app.inject({ method: 'POST', url: await survey(workflowId, 'churn-reason'), ...form({ reason: 'other', other: 'moved abroad' }) });
      expect(answer.statusCode).toBe(409);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
    });

    it('refuses a forged survey link with 403 and 404s a journey that does not exist', async () => {
      const customer = await seedCustomer(kit.store);
      const ticketId = `L-${Date.now().toString(36)}-${++ticketCounter}`;
      const { workflowId } = await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
      const runId = await journeyRunId(kit.env.client, workflowId);
      const forged = `/surveys?w=${encodeURIComponent(workflowId)}&r=${runId}&s=csat&t=${'A'.repeat(43)}`;
      expect((await kit.app.inject({ method: 'GET', url: forged })).statusCode).toBe(403);
      expect((await kit.app.inject({ method: 'POST', url: forged, ...form({ rating: '5' }) })).statusCode).toBe(403);
      // A token for another survey of the same journey does not carry over.
      const csatToken = new URL(await survey(workflowId, 'csat'), PUBLIC_BASE_URL).searchParams.get('t') as string;
      const swapped = `/surveys?w=${encodeURIComponent(workflowId)}&r=${runId}&s=churn-reason&t=${csatToken}`;
      expect((await kit.app.inject({ method: 'POST', url: swapped, ...form({ reason: 'quality' }) })).statusCode).toBe(403);

      expect((await kit.app.inject({ method: 'GET', url: await survey('complaint-no-such-ticket', 'csat') })).statusCode).toBe(404);
      expect((await kit.app.inject({ method: 'POST', url: await survey('complaint-no-such-ticket', 'csat'), ...form({ rating: '5' }) })).statusCode).toBe(404);
      expect((await kit.app.inject({ method: 'GET', url: `/surveys?w=${encodeURIComponent(workflowId)}&s=nps&t=x` })).statusCode).toBe(400);

      // A journey that ended without the answer: the survey is over.
      await eventually(async () => ((await state(workflowId))?.currentStep === 'awaiting-first-response' ? true : undefined), 20_000, 'complaint open');
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
      const closedPage = await kit.app.inject({ method: 'GET', url: await survey(workflowId, 'csat') });
      expect(closedPage.statusCode).toBe(410);
      expect(closedPage.body).toContain('This survey has closed');
      expect((await kit.app.inject({ method: 'POST', url: await survey(workflowId, 'csat'), ...form({ rating: '5' }) })).statusCode).toBe(410);
    });
  });
});
