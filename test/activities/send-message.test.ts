import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sendMessage, type SendDeps } from '../../src/activities/send-message';
import { createEmailTransport, type EmailTransport } from '../../src/delivery/email';
import { createSmsTransport, RedirectingRequestClient } from '../../src/delivery/sms';
import { createTemplateRenderer } from '../../src/delivery/templates';
import type { SendMessageInput } from '../../src/shared/activity-contracts';
import { createStore, type CustomerInput, type Store } from '../../src/store';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';

const DAY = 86_400_000;

describe('sendMessage activity', () => {
  let dir: string;
  let store: Store;
  let smtp: FakeSmtpServer;
  let twilio: FakeTwilioServer;
  let deps: SendDeps;
  const transports: EmailTransport[] = [];
  const extraServers: FakeSmtpServer[] = [];

  const emailTransport = (server: FakeSmtpServer) => {
    const transport = createEmailTransport({
      smtpUrl: server.url,
      from: 'Shop <hello@shop.test>',
      poolSize: 1,
      ratePerSecond: 1000,
      outboxDir: path.join(dir, 'outbox'),
    });
    transports.push(transport);
    return transport;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'send-message-'));
    [smtp, twilio, store] = await Promise.all([startSmtpServer(), startTwilioServer(), createStore(`sqlite:${path.join(dir, 'store.sqlite')}`)]);
    await store.migrate();
    deps = {
      store,
      email: emailTransport(smtp),
      sms: createSmsTransport(
        { accountSid: twilio.accountSid, authToken: twilio.authToken, fromNumber: '+15005550006', messagingServiceSid: undefined },
        { outboxDir: path.join(dir, 'outbox'), httpClient: new RedirectingRequestClient(twilio.url) },
      ),
      renderer: createTemplateRenderer(),
      links: { publicBaseUrl: 'https://shop.test', secret: 'test-secret-test-secret' },
      brandName: 'Shop',
      frequencyCap: { email: { max: 100, windowMs: DAY }, sms: { max: 100, windowMs: DAY } },
    };
  });

  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    await Promise.allSettled([store.close(), smtp.close(), twilio.close(), ...extraServers.splice(0).map((s) => s.close())]);
  });

  let seq = 0;
  const seed = (overrides: Partial<CustomerInput> = {}) => {
    seq++;
    const id = overrides.id ?? `c${seq}`;
    return store.upsertCustomer({
      id,
      name: `Customer ${seq}`,
      email: `${id}@example.com`,
      phone: `+1555010${String(1000 + seq).slice(-4)}`,
      preferredChannel: 'email',
      consentEmail: true,
      consentSms: true,
      ...overrides,
    });
  };

  const input = (customerId: string, overrides: Partial<SendMessageInput> = {}): SendMessageInput => ({
    workflowId: `complaint-${customerId}-T1`,
    stepId: 'acknowledge',
    customerId,
    stage: 'complaint',
    campaignId: 'complaint-test',
    step: 'acknowledge',
    variant: 'control',
    holdout: false,
    channel: 'email',
    fallback: true,
    templateId: 'complaint/acknowledge',
    extras: { ticket: { id: 'T1', subject: 'Broken parcel', status: 'open' } },
    whenCapped: 'defer',
    ...overrides,
  });

  const mailsTo = (server: FakeSmtpServer, address: string) => server.messages.filter((m) => m.envelope.to.includes(address));

  it('sends exactly once per (workflow, step): a second call is a duplicate and sends nothing', async () => {
    const c = await seed();
    const first = await sendMessage(deps, input(c.id));
    expect(first).toMatchObject({ status: 'sent', channel: 'email', duplicate: false });
    expect(mailsTo(smtp, c.email as string)).toHaveLength(1);
    expect(smtp.messages[0]?.raw).toMatch(/^Subject: We've got your request \(T1\)/m);

    const second = await sendMessage(deps, input(c.id));
    expect(second).toEqual({
      status: 'sent',
      channel: 'email',
      duplicate: true,
      providerMessageId: (first as { providerMessageId: string }).providerMessageId,
    });
    expect(smtp.messages).toHaveLength(1);
    const sent = await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'sent' });
    expect(sent).toHaveLength(1);
  });

  it('does not send again after a crash that followed the transport accepting the message', async () => {
    const c = await seed();
    let failures = 0;
    const crashing: Store = {
      ...store,
      async recordOutcome(o) {
        if (failures === 0) {
          failures++;
          throw new Error('worker died after the ledger write');
        }
        return store.recordOutcome(o);
      },
    };
    const crashDeps = { ...deps, store: crashing };
    await expect(sendMessage(crashDeps, input(c.id))).rejects.toThrow('worker died after the ledger write');
    expect(failures).toBe(1);
    expect(smtp.messages).toHaveLength(1);
    const { entry } = await store.claimSend({ workflowId: input(c.id).workflowId, stepId: 'acknowledge', customerId: c.id, channel: 'email' });
    expect(entry.status).toBe('sent');

    const retry = await sendMessage(crashDeps, input(c.id));
    expect(retry).toMatchObject({ status: 'sent', channel: 'email', duplicate: true, providerMessageId: entry.providerMessageId });
    expect(smtp.messages).toHaveLength(1);
    const rows = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(rows.filter((r) => r.status === 'sent' && r.step === 'acknowledge')).toHaveLength(1);
    expect(rows).toHaveLength(1);
  });

  it('falls back to SMS when email consent is off', async () => {
    const c = await seed({ consentEmail: false });
    const result = await sendMessage(deps, input(c.id));
    expect(result).toMatchObject({ status: 'sent', channel: 'sms', duplicate: false });
    expect(smtp.messages).toHaveLength(0);
    expect(twilio.requests).toHaveLength(1);
    expect(twilio.requests[0]?.form).toMatchObject({ To: c.phone, From: '+15005550006' });
    expect(twilio.requests[0]?.form.Body).toContain('we received your request T1');
    const [row] = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(row).toMatchObject({ status: 'sent', channel: 'sms' });
  });

  it('defers an email that falls back to SMS inside the quiet hours, and sends it once they are over', async () => {
    const c = await seed({ consentEmail: false, timezone: 'UTC' });
    const hourNow = new Date().getUTCHours();
    // Quiet from the previous UTC hour to two hours from now: inside them even if the hour turns meanwhile.
    const quietHours = { start: (hourNow + 23) % 24, end: (hourNow + 2) % 24 };
    const deferred = await sendMessage(deps, input(c.id, { quietHours }));
    expect(deferred).toMatchObject({ status: 'deferred', reason: 'quiet-hours' });
    const retryAt = (deferred as { retryAt: number }).retryAt;
    expect(new Date(retryAt).getUTCHours()).toBe((hourNow + 2) % 24);
    expect(new Date(retryAt).getUTCMinutes()).toBe(0);
    expect(twilio.requests).toHaveLength(0);

    // An email that goes out as email is not held: quiet hours are for SMS.
    const d = await seed({ timezone: 'UTC' });
    expect(await sendMessage(deps, input(d.id, { quietHours }))).toMatchObject({ status: 'sent', channel: 'email' });

    const outside = { start: (hourNow + 3) % 24, end: (hourNow + 4) % 24 };
    expect(await sendMessage(deps, input(c.id, { quietHours: outside }))).toMatchObject({ status: 'sent', channel: 'sms' });
    expect(twilio.requests).toHaveLength(1);
  });

  it('skips with no-email-consent when there is no fallback', async () => {
    const c = await seed({ consentEmail: false });
    const result = await sendMessage(deps, input(c.id, { fallback: false }));
    expect(result).toEqual({ status: 'skipped', reason: 'no-email-consent', channel: 'email' });
    expect(smtp.messages).toHaveLength(0);
    expect(twilio.requests).toHaveLength(0);
    const rows = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'skipped', reason: 'no-email-consent', step: 'acknowledge' });
  });

  it('bounces on a 550 recipient rejection, suppresses the address and skips later sends to it', async () => {
    const c = await seed();
    const address = c.email as string;
    smtp.rejectRecipient(address, 550);
    const result = await sendMessage(deps, input(c.id, { fallback: false }));
    expect(result).toMatchObject({ status: 'bounced', channel: 'email' });
    expect((result as { reason: string }).reason).toMatch(/^permanent:/);
    expect(smtp.messages).toHaveLength(0);
    expect(await store.isSuppressed('email', address)).toBe(true);
    const [bounced] = await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'bounced' });
    expect(bounced).toMatchObject({ channel: 'email', step: 'acknowledge' });

    const later = await sendMessage(deps, input(c.id, { stepId: 'update-1', step: 'update-1', templateId: 'complaint/update', fallback: false }));
    expect(later).toEqual({ status: 'skipped', reason: 'email-suppressed', channel: 'email' });
    expect(smtp.messages).toHaveLength(0);
  });

  it('throws on a 451 and leaves the ledger entry pending, so a retry sends', async () => {
    const c = await seed();
    const address = c.email as string;
    smtp.rejectRecipient(address, 451);
    const err = await sendMessage(deps, input(c.id)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'DeliveryError', kind: 'retryable', channel: 'email', details: { status: 451 } });
    expect(smtp.messages).toHaveLength(0);
    expect(twilio.requests).toHaveLength(0);
    expect(await store.isSuppressed('email', address)).toBe(false);
    const { entry, created } = await store.claimSend({ workflowId: input(c.id).workflowId, stepId: 'acknowledge', customerId: c.id, channel: 'email' });
    expect(created).toBe(false);
    expect(entry.status).toBe('pending');
    expect(await store.listOutcomes({ workflowId: input(c.id).workflowId })).toHaveLength(0);

    // The mail server recovers (the fake cannot lift a rejection, so the retry goes through a healthy one).
    const healthy = await startSmtpServer();
    extraServers.push(healthy);
    const retry = await sendMessage({ ...deps, email: emailTransport(healthy) }, input(c.id));
    expect(retry).toMatchObject({ status: 'sent', channel: 'email', duplicate: false });
    expect(mailsTo(healthy, address)).toHaveLength(1);
    expect(healthy.messages[0]?.raw).toContain('Message-ID: <complaint-c');
    const rows = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(rows.map((r) => r.status)).toEqual(['sent']);
  });

  it('bounces on Twilio 21610 (opted out) and suppresses the number', async () => {
    const c = await seed({ preferredChannel: 'sms' });
    const phone = c.phone as string;
    twilio.failFor(phone, { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const result = await sendMessage(deps, input(c.id, { channel: 'sms', fallback: false }));
    expect(result).toMatchObject({ status: 'bounced', channel: 'sms' });
    expect((result as { reason: string }).reason).toMatch(/^opted-out:21610: /);
    expect(twilio.requests).toHaveLength(1);
    expect(await store.isSuppressed('sms', phone)).toBe(true);
    const [row] = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(row).toMatchObject({ status: 'bounced', channel: 'sms' });

    const later = await sendMessage(deps, input(c.id, { stepId: 'update-1', step: 'update-1', channel: 'sms', fallback: false }));
    expect(later).toEqual({ status: 'skipped', reason: 'sms-suppressed', channel: 'sms' });
    expect(twilio.requests).toHaveLength(1);
  });

  it('defers or skips a message over the frequency cap', async () => {
    deps.frequencyCap = { ...deps.frequencyCap, email: { max: 1, windowMs: DAY } };
    const c = await seed();
    expect(await sendMessage(deps, input(c.id))).toMatchObject({ status: 'sent', duplicate: false });

    const before = Date.now();
    const deferred = await sendMessage(deps, input(c.id, { stepId: 'update-1', step: 'update-1', templateId: 'complaint/update', whenCapped: 'defer' }));
    expect(deferred).toMatchObject({ status: 'deferred', reason: 'frequency-cap' });
    expect((deferred as { retryAt: number }).retryAt).toBeGreaterThan(before);

    const skipped = await sendMessage(deps, input(c.id, { stepId: 'update-2', step: 'update-2', templateId: 'complaint/update', whenCapped: 'skip' }));
    expect(skipped).toEqual({ status: 'skipped', reason: 'frequency-cap', channel: 'email' });
    expect(smtp.messages).toHaveLength(1);
    const rows = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(rows.map((r) => [r.step, r.status, r.reason])).toEqual([
      ['acknowledge', 'sent', null],
      ['update-1', 'deferred', 'frequency-cap'],
      ['update-2', 'skipped', 'frequency-cap'],
    ]);
  });

  it('skips an unknown template with a template-error reason', async () => {
    const c = await seed();
    const result = await sendMessage(deps, input(c.id, { templateId: 'complaint/does-not-exist' }));
    expect(result).toMatchObject({ status: 'skipped', channel: 'email' });
    expect((result as { reason: string }).reason).toMatch(/^template-error/);
    expect(smtp.messages).toHaveLength(0);
    const [row] = await store.listOutcomes({ workflowId: input(c.id).workflowId });
    expect(row?.status).toBe('skipped');
    expect(row?.reason).toMatch(/^template-error/);
  });
});
