import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeliveryError } from '../../src/delivery/errors';
import { RedirectingRequestClient, createSmsTransport, type SmsConfig } from '../../src/delivery/sms';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';

const FROM = '+15005550006';
const CALLBACK = 'https://retention.example.com/webhooks/twilio/status';

describe('SMS through the twilio SDK to a Twilio-shaped server', () => {
  let twilioServer: FakeTwilioServer;
  beforeEach(async () => {
    twilioServer = await startTwilioServer();
  });
  afterEach(async () => {
    await twilioServer.close();
  });

  function transport(overrides: Partial<NonNullable<SmsConfig>> = {}) {
    return createSmsTransport(
      { accountSid: twilioServer.accountSid, authToken: twilioServer.authToken, fromNumber: FROM, messagingServiceSid: undefined, ...overrides },
      { outboxDir: os.tmpdir(), statusCallbackUrl: CALLBACK, httpClient: new RedirectingRequestClient(twilioServer.url) },
    );
  }

  test('sends body, to, from and statusCallback with basic auth; returns the sid and status', async () => {
    const sms = transport();
    expect(sms.kind).toBe('twilio');
    const result = await sms.sendSms({ to: '+14155550100', body: 'Hi Ada, welcome to Acme Coffee!' });
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
    expect(twilioServer.requests).toHaveLength(1);
    const [request] = twilioServer.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${twilioServer.accountSid}/Messages.json`);
    expect(request?.auth).toEqual({ username: twilioServer.accountSid, password: twilioServer.authToken });
    expect(request?.form).toEqual({ To: '+14155550100', From: FROM, Body: 'Hi Ada, welcome to Acme Coffee!', StatusCallback: CALLBACK });
  });

  test('uses the messaging service when configured', async () => {
    const service = `MG${'ab'.repeat(16)}`;
    const result = await transport({ fromNumber: undefined, messagingServiceSid: service }).sendSms({ to: '+14155550101', body: 'Hello' });
    expect(result.status).toBe('accepted');
    expect(twilioServer.requests[0]?.form).toMatchObject({ MessagingServiceSid: service, To: '+14155550101' });
    expect(twilioServer.requests[0]?.form.From).toBeUndefined();
  });

  test('wrong credentials are refused by the server (auth is really checked)', async () => {
    const err = await transport({ authToken: 'wrong-token' }).sendSms({ to: '+14155550100', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ kind: 'permanent', details: { status: 401, code: 20003 } });
  });

  test('21610 is opted-out, 21211 is invalid-address, 429 and 500 are retryable, other 4xx permanent', async () => {
    twilioServer.failFor('+14155550110', { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    twilioServer.failFor('+14155550111', { kind: 'error', status: 400, code: 21211, message: "The 'To' number +1415555 is not a valid phone number." });
    twilioServer.failFor('+14155550112', { kind: 'error', status: 429, code: 20429, message: 'Too Many Requests' });
    twilioServer.failFor('+14155550113', { kind: 'http', status: 500, body: 'upstream exploded' });
    twilioServer.failFor('+14155550114', { kind: 'error', status: 400, code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' });
    const sms = transport();
    const outcome = async (to: string) => {
      const err = await sms.sendSms({ to, body: 'hello' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      return err as DeliveryError;
    };
    const optedOut = await outcome('+14155550110');
    expect(optedOut.kind).toBe('opted-out');
    expect(optedOut.details).toMatchObject({ code: 21610, status: 400, suppressAddress: true });
    expect(optedOut.message).toBe('Attempt to send to unsubscribed recipient');

    const invalid = await outcome('+14155550111');
    expect(invalid.kind).toBe('invalid-address');
    expect(invalid.retryable).toBe(false);

    const throttled = await outcome('+14155550112');
    expect(throttled).toMatchObject({ kind: 'retryable', details: { status: 429 } });

    const serverError = await outcome('+14155550113');
    expect(serverError).toMatchObject({ kind: 'retryable', details: { status: 500 } });

    const tooLong = await outcome('+14155550114');
    expect(tooLong).toMatchObject({ kind: 'permanent', details: { status: 400, code: 21617 } });
    expect(twilioServer.requests).toHaveLength(5);
  });
});

test('an unreachable Twilio endpoint is retryable', async () => {
  const server = await startTwilioServer();
  await server.close();
  const sms = createSmsTransport(
    { accountSid: server.accountSid, authToken: server.authToken, fromNumber: FROM, messagingServiceSid: undefined },
    { outboxDir: os.tmpdir(), httpClient: new RedirectingRequestClient(server.url) },
  );
  await expect(sms.sendSms({ to: '+14155550100', body: 'x' })).rejects.toMatchObject({ name: 'DeliveryError', kind: 'retryable' });
});

describe('SMS outbox (Twilio not configured)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sms-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('appends one JSON line per message to sms.jsonl', async () => {
    const sms = createSmsTransport(undefined, { outboxDir: dir, statusCallbackUrl: CALLBACK });
    expect(sms.kind).toBe('outbox');
    const first = await sms.sendSms({ to: '+14155550100', body: 'Hi Ada!', messageId: 'wf-1.step-1' });
    const second = await sms.sendSms({ to: '+14155550101', body: 'Grüße – café ☕', messageId: 'wf-2.step-1' });
    expect(first.status).toBe('outbox');
    expect(first.providerMessageId).toMatch(/^OB[0-9a-f]{32}$/);
    expect(second.providerMessageId).not.toBe(first.providerMessageId);
    const lines = (await readFile(path.join(dir, 'sms.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ sid: first.providerMessageId, messageId: 'wf-1.step-1', to: '+14155550100', body: 'Hi Ada!', segments: 1, encoding: 'GSM-7', statusCallback: CALLBACK });
    expect(lines[1]).toMatchObject({ to: '+14155550101', body: 'Grüße – café ☕', encoding: 'UCS-2' });
  });
});
