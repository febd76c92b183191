import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio';
import { sendMessage } from '../../src/activities/send-message';
import { journeyStateQuery } from '../../src/shared/messages';
import { startJourney } from '../../src/triggers/journeys';
import { seedCustomer } from '../journeys/journey-env';
import { type ApiKit, eventually, mutedOnboarding, PUBLIC_BASE_URL, startApiKit } from './api-kit';

const onboarding = mutedOnboarding('api-twilio-onboarding');

/** A Twilio account for the API: without one the Twilio webhooks are not served. */
const TWILIO_AUTH_TOKEN = 'test-twilio-auth-token-0123456789';
const TWILIO_ENV = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(31)}1`, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER: '+15005550006' };
/** The token every deployment without Twilio used to check these webhooks with (public in this repository). */
const FORMER_DEV_TOKEN = 'dev-twilio-auth-token';
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

let phoneCounter = 0;
const newPhone = () => `+1415${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++phoneCounter % 10)}`;

describe('Twilio webhooks', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [onboarding], env: { BRAND_NAME: 'Shop', ...TWILIO_ENV } });
  });
  afterAll(() => kit?.close());

  /** Posts form parameters signed the way Twilio signs them (the SDK's own computation over the public URL). */
  const post = (path: string, params: Record<string, string>, signature?: string) =>
    kit.app.inject({
      method: 'POST',
      url: path,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature ?? getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + path, params),
      },
      payload: new URLSearchParams(params).toString(),
    });
  const inbound = (from: string, body: string, extra: Record<string, string> = {}) =>
    post('/webhooks/twilio/inbound', {
      MessageSid: messageSid(),
      AccountSid: 'AC00000000000000000000000000000000',
      From: from,
      To: '+15005550006',
      Body: body,
      NumSegments: '1',
      ...extra,
    });
  const status = (sid: string, messageStatus: string, extra: Record<string, string> = {}) =>
    post('/webhooks/twilio/status', { MessageSid: sid, MessageStatus: messageStatus, SmsSid: sid, SmsStatus: messageStatus, To: '+15005550100', ...extra });
  const consentSms = async (id: string) => (await kit.store.getCustomer(id))?.consentSms;

  it('refuses a missing or wrong signature with 403 and changes nothing', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone() });
    const params = { From: customer.phone as string, Body: 'STOP' };
    const missing = await kit.app.inject({
      method: 'POST',
      url: '/webhooks/twilio/inbound',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(params).toString(),
    });
    expect(missing.statusCode).toBe(403);
    const wrongToken = await post('/webhooks/twilio/inbound', params, getExpectedTwilioSignature('another-auth-token', `${PUBLIC_BASE_URL}/webhooks/twilio/inbound`, params));
    expect(wrongToken.statusCode).toBe(403);
    const otherUrl = await post('/webhooks/twilio/inbound', params, getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_BASE_URL}/webhooks/twilio/status`, params));
    expect(otherUrl.statusCode).toBe(403);
    // Signed without a parameter that was then added: every posted parameter counts.
    const signedWithout = getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_BASE_URL}/webhooks/twilio/inbound`, { From: params.From });
    expect((await post('/webhooks/twilio/inbound', params, signedWithout)).statusCode).toBe(403);
    const badStatus = await post('/webhooks/twilio/status', { MessageSid: 'SM1', MessageStatus: 'delivered' }, 'bm90IGEgc2lnbmF0dXJl');
    expect(badStatus.statusCode).toBe(403);

    expect(await consentSms(customer.id)).toBe(true);
    expect(await kit.store.isSuppressed('sms', customer.phone as string)).toBe(false);
  });

  it('STOP withdraws SMS consent, suppresses the number, mutes running journeys and confirms in TwiML', async () => {
    // SMS is this customer's only consented channel, so the journey is muted by the opt-out.
    const customer = await seedCustomer(kit.store, { phone: newPhone(), consentEmail: false, preferredChannel: 'sms' });
    const phone = customer.phone as string;
    const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
    const handle = kit.env.client.workflow.getHandle(workflowId);
    await eventually(async () => ((await handle.query(journeyStateQuery).catch(() => undefined))?.currentStep === 'welcome' ? true : undefined));

    const response = await inbound(phone, 'STOP', { MessageSid: 'SMstop0001', SmsMessageSid: 'SMx', FromCountry: 'US', SomeFieldTwilioAddsLater: 'yes' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/xml/);
    expect(response.body).toMatch(/<Response><Message>Shop: you are unsubscribed[^<]*START[^<]*<\/Message><\/Response>$/);

    expect(await consentSms(customer.id)).toBe(false);
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    // Kept with its provenance: what the customer texted, from which number, in which message.
    expect((await kit.store.latestConsentChanges(customer.id)).sms).toMatchObject({ granted: false, source: 'sms-keyword', evidence: `"STOP" from ${phone} (MessageSid SMstop0001)` });
    await eventually(async () => ((await handle.query(journeyStateQuery)).muted ? true : undefined), 15_000, 'journey muted');
    await handle.terminate('test finished');
  });

  it('handles an inbound message once per MessageSid: a STOP that Twilio retries after the START does not undo it', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone() });
    const phone = customer.phone as string;
    const stopSid = messageSid();
    expect((await inbound(phone, 'STOP', { MessageSid: stopSid })).statusCode).toBe(200);
    expect(await consentSms(customer.id)).toBe(false);
    expect((await inbound(phone, 'START')).statusCode).toBe(200);
    expect(await consentSms(customer.id)).toBe(true);
    const retried = await inbound(phone, 'STOP', { MessageSid: stopSid });
    expect(retried.statusCode).toBe(200);
    expect(retried.body).not.toContain('unsubscribed');
    expect(await consentSms(customer.id)).toBe(true);
    expect(await kit.store.isSuppressed('sms', phone)).toBe(false);
    // A new message with the same words is a new request.
    await inbound(phone, 'STOP');
    expect(await consentSms(customer.id)).toBe(false);
  });

  it('recognises the synonyms case-insensitively as the whole trimmed body only', async () => {
    for (const word of ['stopall', ' Unsubscribe ', 'CANCEL', 'end', 'Quit', 'revoke', 'OPTOUT']) {
      const customer = await seedCustomer(kit.store, { phone: newPhone() });
      const response = await inbound(customer.phone as string, word);
      expect(response.body).toContain('<Message>');
      expect(await consentSms(customer.id)).toBe(false);
    }
    const chatty = await seedCustomer(kit.store, { phone: newPhone() });
    const sentence = await inbound(chatty.phone as string, 'please stop the delay on my order');
    expect(sentence.statusCode).toBe(200);
    expect(sentence.body).toMatch(/<Response\/>$/);
    expect(await consentSms(chatty.id)).toBe(true);
    expect(await kit.store.isSuppressed('sms', chatty.phone as string)).toBe(false);
  });

  it("lets Twilio's OptOutType decide, and answers with empty TwiML because Twilio already replied", async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone() });
    const response = await inbound(customer.phone as string, 'Arrêt', { OptOutType: 'STOP' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/<Response\/>$/);
    expect(await consentSms(customer.id)).toBe(false);
    expect(await kit.store.isSuppressed('sms', customer.phone as string)).toBe(true);

    const back = await inbound(customer.phone as string, 'Reprendre', { OptOutType: 'START' });
    expect(back.body).toMatch(/<Response\/>$/);
    expect(await consentSms(customer.id)).toBe(true);
  });

  it('START gives SMS consent back and HELP answers with the brand name', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone() });
    const phone = customer.phone as string;
    await inbound(phone, 'STOP');
    expect(await consentSms(customer.id)).toBe(false);

    const start = await inbound(phone, 'unstop');
    expect(start.body).toMatch(/<Message>Shop: you are subscribed to text messages again/);
    expect(await consentSms(customer.id)).toBe(true);

    const help = await inbound(phone, ' help ');
    expect(help.statusCode).toBe(200);
    expect(help.body).toMatch(/<Message>Shop: [^<]*Reply STOP to opt out/);
    expect(await consentSms(customer.id)).toBe(true);
  });

  let sendCounter = 0;
  /** One SMS through the real sendMessage activity and SMS transport, as a journey step would send it (a new step each call). */
  const sendSms = (customerId: string) =>
    sendMessage(kit.deps, {
      workflowId: `twilio-test-${customerId}`,
      runId: 'run-1',
      stepId: `sms-${++sendCounter}`,
      customerId,
      stage: 'onboarding',
      campaignId: onboarding.id,
      step: 'welcome',
      variant: 'control',
      holdout: false,
      channel: 'sms',
      fallback: false,
      templateId: 'onboarding/welcome',
      extras: {},
      whenCapped: 'skip',
    });
  const acceptedFor = (phone: string) => kit.twilio.messages.filter((m) => m.to === phone).length;
  const requestsFor = (phone: string) => kit.twilio.requests.filter((r) => r.form.To === phone).length;

  it('START after STOP lifts the suppression: the next SMS reaches Twilio', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone(), consentEmail: false, preferredChannel: 'sms' });
    const phone = customer.phone as string;
    await inbound(phone, 'STOP');
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    expect(await sendSms(customer.id)).toMatchObject({ status: 'skipped' });
    expect(requestsFor(phone)).toBe(0);

    await inbound(phone, 'START');
    expect(await kit.store.isSuppressed('sms', phone)).toBe(false);
    expect(await sendSms(customer.id)).toMatchObject({ status: 'sent', channel: 'sms', providerMessageId: expect.stringMatching(/^SM/) });
    expect(acceptedFor(phone)).toBe(1);
  });

  it('START also lifts the suppression of a number Twilio refused as opted out (21610)', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone(), consentEmail: false, preferredChannel: 'sms' });
    const phone = customer.phone as string;
    kit.twilio.failNext(1, { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    expect(await sendSms(customer.id)).toMatchObject({ status: 'bounced', channel: 'sms' });
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);

    await inbound(phone, 'START');
    expect(await sendSms(customer.id)).toMatchObject({ status: 'sent', channel: 'sms' });
    expect(acceptedFor(phone)).toBe(1);
  });

  it('keeps a number suppressed as invalid after START, and after STOP then START', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone(), consentEmail: false, preferredChannel: 'sms' });
    const phone = customer.phone as string;
    kit.twilio.failFor(phone, { kind: 'error', status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    expect(await sendSms(customer.id)).toMatchObject({ status: 'bounced', channel: 'sms' });
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    const requests = requestsFor(phone);

    await inbound(phone, 'START');
    expect(await consentSms(customer.id)).toBe(true);
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    expect(await sendSms(customer.id)).toEqual({ status: 'skipped', reason: 'sms-suppressed', channel: 'sms' });

    await inbound(phone, 'STOP');
    await inbound(phone, 'START');
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    expect(await sendSms(customer.id)).toEqual({ status: 'skipped', reason: 'sms-suppressed', channel: 'sms' });
    expect(requestsFor(phone)).toBe(requests);
  });

  it('suppresses a number that texts STOP even when no customer has it', async () => {
    const phone = newPhone();
    const response = await inbound(phone, 'Stop');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<Message>');
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
  });

  it('answers a signed request without the fields it needs with 400, not 500', async () => {
    const response = await post('/webhooks/twilio/inbound', { Body: 'STOP' });
    expect(response.statusCode).toBe(400);
    expect(response.json().issues.map((i: { path: string }) => i.path)).toContain('body.From');
    const noSid = await post('/webhooks/twilio/status', { MessageStatus: 'sent' });
    expect(noSid.statusCode).toBe(400);
    // A repeated parameter arrives as a list: signed fine, then refused by the schema.
    const url = '/webhooks/twilio/inbound';
    const repeated = await kit.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + url, { From: ['+15005550100', '+15005550101'], Body: 'STOP' }),
      },
      payload: 'From=%2B15005550100&From=%2B15005550101&Body=STOP',
    });
    expect(repeated.statusCode).toBe(400);
    expect(await kit.store.isSuppressed('sms', '+15005550100')).toBe(false);
  });

  it('keeps the highest status of out-of-order, repeated callbacks and records one delivered outcome with the send context', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone(), preferredChannel: 'sms' });
    const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
    const sent = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'sent' }))[0], 20_000, 'welcome sent');
    expect(sent.channel).toBe('sms');
    const sid = sent.data?.providerMessageId as string;
    expect(sid).toMatch(/^SM/);
    // Twilio posts its receipts to the URL the transport gave it, signed over that very URL: the API must accept them
    // there. (The harness builds this transport; how production derives the URL: test/workers/wiring.test.ts.)
    const callbackUrl = kit.twilio.requests.find((r) => r.form.To === customer.phone)?.form.StatusCallback ?? '';
    const receipt = { MessageSid: sid, MessageStatus: 'queued', To: customer.phone as string };
    const signedByTwilio = getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, callbackUrl, receipt);
    expect((await post(new URL(callbackUrl).pathname, receipt, signedByTwilio)).statusCode).toBe(204);

    for (const step of ['sent', 'delivered', 'queued', 'sent', 'delivered', 'sending']) {
      const response = await status(sid, step, { To: customer.phone as string });
      expect(response.statusCode).toBe(204);
    }
    expect(await kit.store.getMessageStatus(sid)).toBe('delivered');
    const delivered = await kit.store.listOutcomes({ workflowId, status: 'delivered' });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      customerId: customer.id,
      stage: 'onboarding',
      campaignId: 'api-twilio-onboarding',
      step: sent.step,
      variant: sent.variant,
      holdout: sent.holdout,
      channel: 'sms',
      data: { providerMessageId: sid, providerStatus: 'delivered' },
    });
    // A later alternative final status does not replace the first one.
    await status(sid, 'undelivered', { ErrorCode: '30003' });
    expect(await kit.store.getMessageStatus(sid)).toBe('delivered');
    expect(await kit.store.listOutcomes({ workflowId, status: 'failed' })).toHaveLength(0);
    await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
  });

  it('records a failed outcome for an undelivered message and suppresses a number reported as unsubscribed (21610)', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone(), preferredChannel: 'sms' });
    const phone = customer.phone as string;
    const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
    const sent = await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'sent' }))[0], 20_000, 'welcome sent');
    const sid = sent.data?.providerMessageId as string;

    expect((await status(sid, 'undelivered', { ErrorCode: '21610', To: phone })).statusCode).toBe(204);
    expect(await kit.store.isSuppressed('sms', phone)).toBe(true);
    const failed = await kit.store.listOutcomes({ workflowId, status: 'failed' });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ step: sent.step, channel: 'sms', reason: 'undelivered:21610', data: { errorCode: '21610' } });
    await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
  });

  it('accepts callbacks for messages it did not send and statuses it does not track, without outcomes', async () => {
    const deliveries = async () => (await kit.store.listOutcomes({ status: ['delivered', 'failed'] })).length;
    const before = await deliveries();
    expect((await status('SMnot-ours', 'delivered')).statusCode).toBe(204);
    expect(await kit.store.getMessageStatus('SMnot-ours')).toBe('delivered');
    expect((await status('SMinbound', 'received')).statusCode).toBe(204);
    expect(await kit.store.getMessageStatus('SMinbound')).toBeUndefined();
    expect(await deliveries()).toBe(before);
  });
});

describe('Twilio webhooks without a Twilio account', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit();
  });
  afterAll(() => kit?.close());

  it('are not served: a request signed with the former public development token changes nothing', async () => {
    const customer = await seedCustomer(kit.store, { phone: newPhone() });
    await kit.store.suppress('sms', customer.phone as string, 'sms-stop');
    const params = { MessageSid: messageSid(), From: customer.phone as string, Body: 'START' };
    const response = await kit.app.inject({
      method: 'POST',
      url: '/webhooks/twilio/inbound',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(FORMER_DEV_TOKEN, `${PUBLIC_BASE_URL}/webhooks/twilio/inbound`, params),
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(response.statusCode).toBe(404);
    expect(await kit.store.isSuppressed('sms', customer.phone as string)).toBe(true);
    const paths = Object.keys((await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths as object);
    expect(paths.filter((p) => p.startsWith('/webhooks/twilio'))).toEqual([]);
    expect(paths).toContain('/customers/{id}');
  });
});
