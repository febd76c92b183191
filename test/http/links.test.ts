import { createHmac } from 'node:crypto';
import { surveyLink, type SurveyKind } from '../../src/delivery/survey-token';
import { unsubscribeUrl } from '../../src/delivery/unsubscribe-token';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { openComplaint, reportComplaintProgress } from '../../src/triggers/complaints';
import { buildApp } from '../../src/triggers/http/app';
import { journeyRunId, startJourney } from '../../src/triggers/journeys';
import { recordCustomerEvent } from '../../src/triggers/customer-events';
import { seedCustomer } from '../journeys/journey-env';
import { type ApiKit, complaintReaches, eventually, formPost, journeyStateOf, mutedOnboarding, pathOf, PUBLIC_BASE_URL, QUIET_COMPLAINT, startApiKit } from './api-kit';

const onboarding = mutedOnboarding('api-links-onboarding');

const winback: CampaignDefinitionInput = {
  id: 'api-links-winback',
  version: 1,
  stage: 'winback',
  holdoutPercent: 0,
  inactiveDays: 60,
  steps: [{ id: 'we-miss-you', template: 'winback/we-miss-you' }],
  offer: { discountPercent: 10, validFor: '10 days' },
  finalWait: '1s',
  churnSurvey: {
    template: 'winback/churn-survey',
    timeout: '1 hour',
    reasons: [
      { key: 'price', label: 'The price went up' },
      { key: 'moved', label: 'I moved away' },
      { key: 'other', label: 'Something else' },
    ],
  },
};

const DAY = 86_400_000;

/** A token as links sent before v2 carried it: HMAC over the fields joined by line breaks, no purpose, no expiry. */
const legacyToken = (secret: string, ...fields: string[]) => createHmac('sha256', secret).update(fields.join('\n')).digest('base64url');


let ticketCounter = 0;

describe('signed customer links', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [onboarding, QUIET_COMPLAINT, winback], env: { BRAND_NAME: 'Shop & Co' } });
  });
  afterAll(() => kit?.close());

  const unsubscribe = (customerId: string, channel: 'email' | 'sms') => pathOf(unsubscribeUrl(PUBLIC_BASE_URL, kit.config.linkSigningSecret, customerId, channel));
  // A link names the journey run it answers; a journey that does not exist has none.
  const survey = async (workflowId: string, kind: SurveyKind, expiresAt = new Date(Date.now() + 30 * DAY)) => {
    const runId = await journeyRunId(kit.env.client, workflowId).catch(() => 'no-such-run');
    return pathOf(surveyLink(PUBLIC_BASE_URL, kit.config.linkSigningSecret, { workflowId, runId }, kind, expiresAt));
  };
  const json = { headers: { 'content-type': 'application/json' } };
  /** The survey link of the last email to `address` the fake SMTP server took (text part, quoted-printable undone). */
  const sentSurveyLink = async (address: string) => {
    const raw = kit.smtp.messages.filter((m) => m.envelope.to.includes(address)).map((m) => m.raw).join('\n');
    const links = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=').match(/https:\/\/api\.shop\.test\/surveys\?[^\s"<>]+/g);
    const last = links?.at(-1);
    return last === undefined ? undefined : pathOf(last.replace(/&amp;/g, '&'));
  };
  const state = (workflowId: string) => journeyStateOf(kit, workflowId);

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

      const response = await kit.app.inject({ method: 'POST', url: unsubscribe(customer.id, 'email'), ...formPost({ 'List-Unsubscribe': 'One-Click' }) });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('You are unsubscribed');
      const profile = await kit.store.getCustomer(customer.id);
      expect(profile).toMatchObject({ consentEmail: false, consentSms: false });
      expect((await kit.store.latestConsentChanges(customer.id)).email).toMatchObject({ granted: false, source: 'unsubscribe-link' });
      await eventually(async () => ((await state(workflowId))?.muted ? true : undefined), 15_000, 'journey muted');

      // Doing it again is harmless.
      expect((await kit.app.inject({ method: 'POST', url: unsubscribe(customer.id, 'email'), ...formPost({ 'List-Unsubscribe': 'One-Click' }) })).statusCode).toBe(200);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
    });

    it('suppresses the address on an email one-click: another customer with it is not mailed, until the owner resubscribes', async () => {
      const owner = await seedCustomer(kit.store);
      const email = owner.email as string;
      // No SMS consent: the step's fallback to SMS cannot carry the message instead.
      const other = await seedCustomer(kit.store, { email, consentSms: false });
      const response = await kit.app.inject({ method: 'POST', url: unsubscribe(owner.id, 'email'), ...formPost({ 'List-Unsubscribe': 'One-Click' }) });
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
        const incomplete = await kit.app.inject({ method, url: `/unsubscribe?c=${encodeURIComponent(customer.id)}` });
        expect(incomplete.statusCode).toBe(400);
        // A person gets a page for a link cut short, as for every other answer.
        expect(incomplete.headers['content-type']).toMatch(/^text\/html/);
        expect(incomplete.body).toContain('This link is incomplete');
        expect((await kit.app.inject({ method, url: `/unsubscribe?c=${encodeURIComponent(customer.id)}&ch=email&t=${'A'.repeat(42)}` })).statusCode).toBe(400);
        expect((await kit.app.inject({ method, url: `/unsubscribe?c=a&c=b&ch=email&t=x` })).statusCode).toBe(400);
        expect((await kit.app.inject({ method, url: unsubscribe('no-such-customer', 'email') })).statusCode).toBe(404);
      }
      expect(await kit.store.getCustomer(customer.id)).toMatchObject({ consentEmail: true, consentSms: true });
    });
  });

  it('are described as validated: token format in the query schema, every answer of each route in its responses', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const token = { type: 'string', minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$' };
    const statuses = {
      'get /unsubscribe': ['200', '400', '403', '404', '410', '429'],
      'post /unsubscribe': ['200', '400', '403', '404', '410', '413', '415', '429'],
      'get /surveys': ['200', '400', '403', '404', '410', '429'],
      'post /surveys': ['200', '202', '400', '403', '404', '409', '410', '413', '415', '429'],
    };
    for (const [operation, expected] of Object.entries(statuses)) {
      const [method, path] = operation.split(' ') as [string, string];
      const spec = doc.paths[path][method];
      const parameter = (name: string) => spec.parameters.find((p: { name: string }) => p.name === name);
      expect(parameter('t')).toMatchObject({ in: 'query', required: true, schema: token });
      expect(Object.keys(spec.responses).sort()).toEqual(expect.arrayContaining(expected));
      for (const status of expected) expect(Object.keys(spec.responses[status].content).sort()).toEqual(['application/json', 'text/html']);
    }
    expect(doc.paths['/surveys'].get.parameters.find((p: { name: string }) => p.name === 'e')).toMatchObject({ required: false, schema: { pattern: '^[0-9]{1,12}$' } });
    expect(doc.paths['/unsubscribe'].get.parameters.find((p: { name: string }) => p.name === 'ch')).toMatchObject({ required: true, schema: { enum: ['email', 'sms'] } });
  });

  it('answers a fault on our side (the database down) with a page asking to come back, not a JSON 500', async () => {
    const customer = await seedCustomer(kit.store);
    const broken = { ...kit.store, getCustomer: () => Promise.reject(new Error('connection refused')) };
    const app = await buildApp({ config: kit.config, ctx: { ...kit.ctx, store: broken } });
    try {
      const response = await app.inject({ method: 'POST', url: unsubscribe(customer.id, 'email'), ...formPost({ 'List-Unsubscribe': 'One-Click' }) });
      expect(response.statusCode).toBe(500);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('Something went wrong');
      expect(response.body).not.toContain('connection refused');
    } finally {
      await app.close();
    }
  });

  describe('unsubscribe links sent before v2', () => {
    const legacyLink = (customerId: string, channel: 'email' | 'sms') =>
      `/unsubscribe?c=${encodeURIComponent(customerId)}&ch=${channel}&t=${legacyToken(kit.config.linkSigningSecret, customerId, channel)}`;

    it('keep unsubscribing during their transition (LEGACY_UNSUBSCRIBE_LINKS_UNTIL)', async () => {
      expect(kit.config.links.legacyUnsubscribeUntil.getTime()).toBeGreaterThan(Date.now());
      const customer = await seedCustomer(kit.store);
      const page = await kit.app.inject({ method: 'GET', url: legacyLink(customer.id, 'email') });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="List-Unsubscribe" value="One-Click"');
      const response = await kit.app.inject({ method: 'POST', url: legacyLink(customer.id, 'email'), ...formPost({ 'List-Unsubscribe': 'One-Click' }) });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('You are unsubscribed');
      expect(await kit.store.getCustomer(customer.id)).toMatchObject({ consentEmail: false, consentSms: true });
    });

    it('get a plain "expired" page (410) once the transition is over, and change nothing', async () => {
      const customer = await seedCustomer(kit.store);
      const config = { ...kit.config, links: { ...kit.config.links, legacyUnsubscribeUntil: new Date(Date.now() - DAY) } };
      const after = await buildApp({ config, ctx: kit.ctx });
      try {
        for (const method of ['GET', 'POST'] as const) {
          const response = await after.inject({ method, url: legacyLink(customer.id, 'email') });
          expect(response.statusCode).toBe(410);
          expect(response.headers['content-type']).toMatch(/^text\/html/);
          expect(response.body).toContain('This link has expired');
        }
        // A link of the current format still works, and a forged one is still 403.
        expect((await after.inject({ method: 'GET', url: unsubscribe(customer.id, 'email') })).statusCode).toBe(200);
        const forged = `/unsubscribe?c=${encodeURIComponent(customer.id)}&ch=email&t=${legacyToken('another-secret-entirely', customer.id, 'email')}`;
        expect((await after.inject({ method: 'POST', url: forged })).statusCode).toBe(403);
      } finally {
        await after.close();
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
      await complaintReaches(kit, workflowId, 'awaiting-first-response', 'complaint open');

      // Too early: the journey is not asking yet.
      const early = await kit.app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rating: 5 }) });
      expect(early.statusCode).toBe(409);
      expect(early.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });

      await reportComplaintProgress(kit.ctx, ticketId, { type: 'resolved', note: 'Refund issued.' });
      // Waiting for the answer: the survey went out and the journey sleeps on its timeout.
      await complaintReaches(kit, workflowId, 'csat-survey', 'waiting for CSAT');

      const page = await kit.app.inject({ method: 'GET', url: link });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<form method="post">');
      for (const n of [1, 2, 3, 4, 5]) expect(page.body).toContain(`name="rating" value="${n}"`);

      const invalid = await kit.app.inject({ method: 'POST', url: link, ...formPost({ rating: '7' }) });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.body).toContain('rating');

      const answered = await kit.app.inject({ method: 'POST', url: link, ...formPost({ rating: '4', comment: 'Quick <b>refund</b>' }) });
      expect(answered.statusCode).toBe(200);
      expect(answered.body).toContain('Your answer has been recorded.');

      const csat = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'csat' }))[0], 15_000, 'csat outcome');
      expect(csat).toMatchObject({ value: 4, customerId: customer.id, data: { comment: 'Quick <b>refund</b>' } });
      const result = await kit.env.client.workflow.getHandle(workflowId).result();
      expect(result).toMatchObject({ outcome: 'resolved', details: { csat: 4 } });

      const again = await kit.app.inject({ method: 'POST', url: link, ...formPost({ rating: '1' }) });
      expect(again.statusCode).toBe(200);
      expect(again.body).toContain('We already have your answer.');
      expect(await kit.store.listOutcomes({ workflowId, status: 'csat' })).toHaveLength(1);
    });

    it('shows the churn-reason form', async () => {
      const customer = await seedCustomer(kit.store, { consentSms: false });
      const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
      // A link names a run the store knows: the journey has entered it (as any journey has before it sends a message).
      await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'entered' }))[0], 20_000, 'entered');
      const page = await kit.app.inject({ method: 'GET', url: await survey(workflowId, 'churn-reason') });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="reason" value="too-expensive"');
      expect(page.body).toContain('name="other"');
      // An onboarding journey never asks for a churn reason: the answer is refused, not lost silently.
      const answer = await kit.app.inject({ method: 'POST', url: await survey(workflowId, 'churn-reason'), ...formPost({ reason: 'other', other: 'moved abroad' }) });
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
      expect((await kit.app.inject({ method: 'POST', url: forged, ...formPost({ rating: '5' }) })).statusCode).toBe(403);
      // A token for another survey of the same journey does not carry over.
      const csatToken = new URL(await survey(workflowId, 'csat'), PUBLIC_BASE_URL).searchParams.get('t') as string;
      const csatExpiry = new URL(await survey(workflowId, 'csat'), PUBLIC_BASE_URL).searchParams.get('e') as string;
      const swapped = `/surveys?w=${encodeURIComponent(workflowId)}&r=${runId}&s=churn-reason&e=${csatExpiry}&t=${csatToken}`;
      expect((await kit.app.inject({ method: 'POST', url: swapped, ...formPost({ reason: 'quality' }) })).statusCode).toBe(403);

      expect((await kit.app.inject({ method: 'GET', url: await survey('complaint-no-such-ticket', 'csat') })).statusCode).toBe(404);
      expect((await kit.app.inject({ method: 'POST', url: await survey('complaint-no-such-ticket', 'csat'), ...formPost({ rating: '5' }) })).statusCode).toBe(404);
      expect((await kit.app.inject({ method: 'GET', url: `/surveys?w=${encodeURIComponent(workflowId)}&s=nps&t=x` })).statusCode).toBe(400);

      // A journey that ended without the answer: the survey is over.
      await complaintReaches(kit, workflowId, 'awaiting-first-response', 'complaint open');
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
      const closedPage = await kit.app.inject({ method: 'GET', url: await survey(workflowId, 'csat') });
      expect(closedPage.statusCode).toBe(410);
      expect(closedPage.body).toContain('This survey has closed');
      expect((await kit.app.inject({ method: 'POST', url: await survey(workflowId, 'csat'), ...formPost({ rating: '5' }) })).statusCode).toBe(410);
    });

    it('closes a survey link once it has expired, with a plain page (410), and refuses links sent before v2 the same way', async () => {
      const customer = await seedCustomer(kit.store);
      const ticketId = `L-${Date.now().toString(36)}-${++ticketCounter}`;
      const { workflowId } = await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
      const runId = await journeyRunId(kit.env.client, workflowId);
      await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'entered' }))[0], 20_000, 'entered');
      const expired = await survey(workflowId, 'csat', new Date(Date.now() - 1000));
      const page = await kit.app.inject({ method: 'GET', url: expired });
      expect(page.statusCode).toBe(410);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('This survey has closed');
      const answer = await kit.app.inject({ method: 'POST', url: expired, ...json, payload: JSON.stringify({ rating: 5 }) });
      expect(answer.statusCode).toBe(410);
      expect(answer.json()).toMatchObject({ error: 'This survey has closed' });

      // Moving the expiry breaks the signature.
      const moved = new URL(expired, PUBLIC_BASE_URL);
      moved.searchParams.set('e', String(Math.floor(Date.now() / 1000) + 3600));
      expect((await kit.app.inject({ method: 'GET', url: moved.pathname + moved.search })).statusCode).toBe(403);

      // A link signed before v2 (no expiry) is closed, not "not valid"; a forged one of that shape is 403.
      const old = `/surveys?w=${encodeURIComponent(workflowId)}&r=${runId}&s=csat&t=${legacyToken(kit.config.linkSigningSecret, workflowId, runId, 'csat')}`;
      for (const method of ['GET', 'POST'] as const) {
        const response = await kit.app.inject({ method, url: old, ...formPost({ rating: '5' }) });
        expect(response.statusCode).toBe(410);
        expect(response.body).toContain('This survey has closed');
      }
      const forgedOld = `/surveys?w=${encodeURIComponent(workflowId)}&r=${runId}&s=csat&t=${legacyToken('another-secret-entirely', workflowId, runId, 'csat')}`;
      expect((await kit.app.inject({ method: 'GET', url: forgedOld })).statusCode).toBe(403);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
    });

    it('answers only the journey run that sent the link: a link of an earlier run does not answer a later one', async () => {
      const customer = await seedCustomer(kit.store);
      const ticketId = `L-${Date.now().toString(36)}-${++ticketCounter}`;
      const { workflowId } = await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
      const earlier = await survey(workflowId, 'csat');
      await complaintReaches(kit, workflowId, 'awaiting-first-response', 'complaint open');
      await kit.env.client.workflow.getHandle(workflowId).terminate('the ticket is reopened');

      // The same ticket again: a new run of the same workflow id, waiting for its CSAT.
      await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
      await complaintReaches(kit, workflowId, 'awaiting-first-response', 'complaint reopened');
      await reportComplaintProgress(kit.ctx, ticketId, { type: 'resolved', note: 'Fixed.' });
      await complaintReaches(kit, workflowId, 'csat-survey', 'waiting for CSAT');

      expect((await kit.app.inject({ method: 'GET', url: earlier })).statusCode).toBe(410);
      const refused = await kit.app.inject({ method: 'POST', url: earlier, ...formPost({ rating: '1' }) });
      expect(refused.statusCode).toBe(410);
      expect((await state(workflowId))?.details.csat).toBeUndefined();

      const current = await kit.app.inject({ method: 'POST', url: await survey(workflowId, 'csat'), ...formPost({ rating: '4' }) });
      expect(current.statusCode).toBe(200);
      expect(await kit.env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'resolved', details: { csat: 4 } });
    });

    it("takes only a reason from the campaign's own list (400 naming the field), and keeps free text as the comment of \"other\"", async () => {
      const customer = await seedCustomer(kit.store, { consentSms: false });
      const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'winback', customerId: customer.id });
      await eventually(async () => {
        const s = await state(workflowId);
        return s?.currentStep === 'churn-survey' && s.nextActionAt !== undefined ? true : undefined;
      }, 30_000, 'waiting for the churn reason');
      // The link exactly as the churn-survey email carries it: its run, and an expiry SURVEY_LINK_VALID_FOR ahead.
      const link = await eventually(async () => sentSurveyLink(customer.email as string), 15_000, 'the survey email');
      const expiresAt = Number(new URL(link, PUBLIC_BASE_URL).searchParams.get('e')) * 1000;
      expect(Math.abs(expiresAt - (Date.now() + kit.config.links.surveyValidForMs))).toBeLessThan(60_000);

      const page = await kit.app.inject({ method: 'GET', url: link });
      expect(page.statusCode).toBe(200);
      for (const key of ['price', 'moved', 'other']) expect(page.body).toContain(`name="reason" value="${key}"`);
      expect(page.body).toContain('I moved away');
      expect(page.body).not.toContain('value="too-expensive"');

      // A well-formed key the campaign does not list, and free text as the reason: both refused, naming the field.
      for (const reason of ['too-expensive', 'I just left']) {
        const refused = await kit.app.inject({ method: 'POST', url: link, ...json, payload: JSON.stringify({ reason }) });
        expect(refused.statusCode).toBe(400);
        expect(refused.json().issues).toEqual([expect.objectContaining({ path: 'body.reason' })]);
      }
      const refusedForm = await kit.app.inject({ method: 'POST', url: link, ...formPost({ reason: 'too-expensive' }) });
      expect(refusedForm.statusCode).toBe(400);
      expect(refusedForm.body).toContain('body.reason: expected one of price, moved, other');
      // The other survey's answer does not fit this link.
      expect((await kit.app.inject({ method: 'POST', url: link, ...formPost({ rating: '5' }) })).statusCode).toBe(400);
      expect((await state(workflowId))?.details.churnReason).toBeUndefined();

      const answered = await kit.app.inject({ method: 'POST', url: link, ...formPost({ reason: 'other', other: 'Moved to the countryside' }) });
      expect(answered.statusCode).toBe(200);
      expect(await kit.env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'churned', details: { churnReason: 'other' } });
      const churned = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'churned' }))[0], 15_000, 'churned outcome');
      expect(churned).toMatchObject({ reason: 'other', data: { comment: 'Moved to the countryside' } });
    });
  });
});
