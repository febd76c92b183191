import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SEND_LEASE, sendMessage, type SendDeps } from '../../src/activities/send-message';
import { createEmailTransport, type EmailTransport } from '../../src/delivery/email';
import { createSmsTransport, RedirectingRequestClient, type SmsTransport } from '../../src/delivery/sms';
import { createTemplateRenderer } from '../../src/delivery/templates';
import type { SendMessageInput } from '../../src/shared/activity-contracts';
import { createStore, type CustomerInput, type Store } from '../../src/store';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { header } from '../delivery/mail-headers';

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
      links: { publicBaseUrl: 'https://shop.test', secret: 'test-secret-test-secret', surveyValidForMs: 30 * 86_400_000 },
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
    runId: 'run-1',
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
  const keyOf = (i: SendMessageInput) => ({ workflowId: i.workflowId, runId: i.runId ?? '', stepId: i.stepId });

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
    const entry = await store.getSend(keyOf(input(c.id)));
    expect(entry?.status).toBe('sent');

    const retry = await sendMessage(crashDeps, input(c.id));
    expect(retry).toMatchObject({ status: 'sent', channel: 'email', duplicate: true, providerMessageId: entry?.providerMessageId });
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
    // The server answered 451: the message certainly did not go out, so the entry is pending, free and not in doubt.
    expect(await store.getSend(keyOf(input(c.id)))).toMatchObject({ status: 'pending', leaseOwner: null, transportStartedAt: null });
    expect(await store.listOutcomes({ workflowId: input(c.id).workflowId })).toHaveLength(0);

    // The mail server recovers (the fake cannot lift a rejection, so the retry goes through a healthy one).
    const healthy = await startSmtpServer();
    extraServers.push(healthy);
    const retry = await sendMessage({ ...deps, email: emailTransport(healthy), emailInDoubt: 'hold' }, input(c.id));
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

  describe('an SMS longer than the step allows (maxSmsSegments)', () => {
    // The update SMS prints the ticket id: this one takes it past one segment (160 GSM-7 characters).
    const longTicket = { id: `T-${'7'.repeat(200)}`, status: 'open' };
    const update = (customerId: string, overrides: Partial<SendMessageInput> = {}) =>
      input(customerId, { channel: 'sms', stepId: 'update-1', step: 'update-1', templateId: 'complaint/update', extras: { ticket: longTicket }, ...overrides });
    /** Segments of a GSM-7 body as carriers count them: 160 characters in one, else 153 per segment. */
    const gsmSegments = (body: string) => {
      expect(body).toMatch(/^[ -~]*$/); // printable ASCII: one septet per character
      return body.length <= 160 ? 1 : Math.ceil(body.length / 153);
    };
    /** The body as it goes out without a limit, sent to another customer: its length is what the limit judges. */
    const segmentsOfLongUpdate = async () => {
      const other = await seed({ preferredChannel: 'sms' });
      expect(await sendMessage(deps, update(other.id, { workflowId: `probe-${other.id}` }))).toMatchObject({ status: 'sent', channel: 'sms' });
      const body = twilio.requests.find((r) => r.form.To === other.phone)?.form.Body ?? '';
      expect(body).toContain(longTicket.id);
      return gsmSegments(body);
    };

    it('goes by email when the step allows fallback; an SMS within the limit still goes as SMS', async () => {
      const segments = await segmentsOfLongUpdate();
      expect(segments).toBe(2);
      const c = await seed({ preferredChannel: 'sms' });
      const result = await sendMessage(deps, update(c.id, { maxSmsSegments: 1, fallback: true }));
      expect(result).toMatchObject({ status: 'sent', channel: 'email', duplicate: false });
      expect(twilio.requests.filter((r) => r.form.To === c.phone)).toHaveLength(0);
      const [mail] = mailsTo(smtp, c.email as string);
      expect(header(mail?.raw ?? '', 'Subject')).toMatch(/^An update on your request T-7{10}/);
      expect(await store.listOutcomes({ workflowId: update(c.id).workflowId })).toEqual([
        expect.objectContaining({ status: 'sent', channel: 'email', step: 'update-1' }),
      ]);
      expect(await store.getSend(keyOf(update(c.id)))).toMatchObject({ requestedChannel: 'sms', channel: 'email', status: 'sent' });

      const fits = await sendMessage(deps, update(c.id, { stepId: 'update-2', maxSmsSegments: 1, extras: { ticket: { id: 'T1', status: 'open' } } }));
      expect(fits).toMatchObject({ status: 'sent', channel: 'sms' });
      expect(twilio.requests.filter((r) => r.form.To === c.phone)).toHaveLength(1);
    });

    it('is skipped with its segment count when the step has no fallback, or email cannot reach the customer', async () => {
      const segments = await segmentsOfLongUpdate();
      const reason = `sms-too-long:${segments}-segments`;
      const c = await seed({ preferredChannel: 'sms' });
      const noEmail = await seed({ preferredChannel: 'sms', consentEmail: false });
      const sentBefore = { mails: smtp.messages.length, texts: twilio.requests.length };

      expect(await sendMessage(deps, update(c.id, { maxSmsSegments: 1, fallback: false }))).toEqual({ status: 'skipped', reason, channel: 'sms' });
      expect(await sendMessage(deps, update(noEmail.id, { maxSmsSegments: 1, fallback: true }))).toEqual({ status: 'skipped', reason, channel: 'sms' });
      expect({ mails: smtp.messages.length, texts: twilio.requests.length }).toEqual(sentBefore);
      for (const customer of [c, noEmail]) {
        expect(await store.listOutcomes({ workflowId: update(customer.id).workflowId })).toEqual([
          expect.objectContaining({ status: 'skipped', channel: 'sms', reason, step: 'update-1' }),
        ]);
      }
    });
  });

  describe('exactly once under faults', () => {
    const smsInput = (customerId: string, overrides: Partial<SendMessageInput> = {}) =>
      input(customerId, { channel: 'sms', fallback: false, ...overrides });
    /** The next attempt's view of time: the lease of an attempt that died has lapsed. */
    const afterLeaseLapsed = async () => Date.now() + SEND_LEASE.claimMs + SEND_LEASE.transportMs + 1_000;
    /** The worker dies right after the SMTP server took the message, before the ledger write. */
    const diesAfterSmtpAccepted = (): EmailTransport => ({
      ...deps.email,
      async sendEmail(msg) {
        await deps.email.sendEmail(msg);
        throw new Error('worker killed after the SMTP server accepted the message');
      },
    });
    const messageIds = (server: FakeSmtpServer) => server.messages.map((m) => /^Message-ID:\s*(<[^>]+>)/im.exec(m.raw)?.[1]);

    it('a customer who enters the stage again gets that run its own message, Message-ID and survey link', async () => {
      const c = await seed();
      const survey = { extras: { survey: 'csat' as const, ticket: { id: 'T1', status: 'resolved' } }, stepId: 'csat-survey', step: 'csat-survey', templateId: 'complaint/csat-survey' };
      expect(await sendMessage(deps, input(c.id, { ...survey, runId: 'run-1' }))).toMatchObject({ status: 'sent', duplicate: false });
      expect(await sendMessage(deps, input(c.id, { ...survey, runId: 'run-2' }))).toMatchObject({ status: 'sent', duplicate: false });
      expect(mailsTo(smtp, c.email as string)).toHaveLength(2);
      const [first, second] = messageIds(smtp);
      expect(first).toBe(`<complaint-${c.id}-T1.run-1.csat-survey@retention.local>`);
      expect(second).toBe(`<complaint-${c.id}-T1.run-2.csat-survey@retention.local>`);
      const links = smtp.messages.map((m) => /https:\/\/shop\.test\/surveys\?[^\s"<]+/.exec(m.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))?.[0]);
      expect(new URL(links[0] as string).searchParams.get('r')).toBe('run-1');
      expect(new URL(links[1] as string).searchParams.get('r')).toBe('run-2');
      expect(await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'sent' })).toHaveLength(2);
    });

    it('while one attempt is in the transport, an overlapping attempt does not send', async () => {
      const c = await seed();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inTransport = new Promise<void>((resolve) => (entered = resolve));
      const slow: EmailTransport = {
        ...deps.email,
        async sendEmail(msg) {
          entered();
          await gate;
          return deps.email.sendEmail(msg);
        },
      };
      const first = sendMessage({ ...deps, email: slow }, input(c.id));
      await inTransport;
      // Temporal started a second attempt (the first timed out, or its worker looked dead): it must wait.
      const overlapping = await sendMessage(deps, input(c.id)).catch((err: unknown) => err);
      expect(overlapping).toMatchObject({ type: 'SendInProgress', nonRetryable: false });
      expect(smtp.messages).toHaveLength(0);
      release();
      expect(await first).toMatchObject({ status: 'sent', duplicate: false });
      expect(await sendMessage(deps, input(c.id))).toMatchObject({ status: 'sent', duplicate: true });
      expect(mailsTo(smtp, c.email as string)).toHaveLength(1);
    });

    it('SMS in doubt: the next attempt finds the message at Twilio and does not send it again', async () => {
      const c = await seed({ preferredChannel: 'sms' });
      const dying: SmsTransport = {
        ...deps.sms,
        async sendSms(msg) {
          await deps.sms.sendSms(msg);
          throw new Error('worker killed after Twilio accepted the message');
        },
      };
      await expect(sendMessage({ ...deps, sms: dying }, smsInput(c.id))).rejects.toThrow('worker killed');
      expect(twilio.messages).toHaveLength(1);
      expect(await store.getSend(keyOf(smsInput(c.id)))).toMatchObject({ status: 'pending', transportStartedAt: expect.any(Date) });

      const retry = await sendMessage({ ...deps, clock: afterLeaseLapsed }, smsInput(c.id));
      expect(retry).toMatchObject({ status: 'sent', channel: 'sms', providerMessageId: twilio.messages[0]?.sid });
      expect(twilio.messages).toHaveLength(1);
      const sent = await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'sent' });
      expect(sent.map((o) => o.data?.inDoubt)).toEqual(['found-at-provider']);
    });

    it('SMS in doubt that never reached Twilio: the next attempt sends it, once', async () => {
      const c = await seed({ preferredChannel: 'sms' });
      const dying: SmsTransport = {
        ...deps.sms,
        async sendSms() {
          throw new Error('worker killed before the request left');
        },
      };
      await expect(sendMessage({ ...deps, sms: dying }, smsInput(c.id))).rejects.toThrow('worker killed');
      expect(await sendMessage({ ...deps, clock: afterLeaseLapsed }, smsInput(c.id))).toMatchObject({ status: 'sent', duplicate: false });
      expect(twilio.messages.filter((m) => m.to === c.phone)).toHaveLength(1);
    });

    it('email in doubt with EMAIL_IN_DOUBT=hold: held and counted as in doubt, not sent again', async () => {
      const c = await seed();
      await expect(sendMessage({ ...deps, email: diesAfterSmtpAccepted() }, input(c.id))).rejects.toThrow('worker killed');
      const held = await sendMessage({ ...deps, clock: afterLeaseLapsed, emailInDoubt: 'hold' }, input(c.id));
      expect(held).toMatchObject({ status: 'skipped', channel: 'email' });
      expect((held as { reason: string }).reason).toBe('in-doubt-held');
      expect(smtp.messages).toHaveLength(1);
      expect(await store.getSend(keyOf(input(c.id)))).toMatchObject({ status: 'in-doubt' });
      expect((await store.listOutcomes({ workflowId: input(c.id).workflowId })).map((o) => o.status)).toEqual(['in_doubt']);
      // Final: later attempts neither send nor count it again.
      expect(await sendMessage(deps, input(c.id))).toMatchObject({ status: 'skipped' });
      expect(smtp.messages).toHaveLength(1);
    });

    it('email in doubt with EMAIL_IN_DOUBT=resend: resent with the same Message-ID and marked as a resend', async () => {
      const c = await seed();
      await expect(sendMessage({ ...deps, email: diesAfterSmtpAccepted() }, input(c.id))).rejects.toThrow('worker killed');
      expect(await sendMessage({ ...deps, clock: afterLeaseLapsed, emailInDoubt: 'resend' }, input(c.id))).toMatchObject({ status: 'sent' });
      const ids = messageIds(smtp);
      expect(ids).toHaveLength(2);
      expect(ids[1]).toBe(ids[0]);
      const sent = await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'sent' });
      expect(sent.map((o) => o.data?.inDoubt)).toEqual(['resent']);
      // The report counts it as in doubt: the customer may have it twice.
      const doubt = await store.listOutcomes({ workflowId: input(c.id).workflowId, status: 'in_doubt' });
      expect(doubt.map((o) => o.reason)).toEqual(['in-doubt-resent']);
    });

    it('checks the quiet hours before every SMS, not only an email that fell back to SMS', async () => {
      const c = await seed({ preferredChannel: 'sms', timezone: 'UTC' });
      const hourNow = new Date().getUTCHours();
      const quietHours = { start: (hourNow + 23) % 24, end: (hourNow + 2) % 24 };
      // An SMS step that the workflow let through (deferred by the cap, retried after an outage...) lands inside them.
      const deferred = await sendMessage(deps, smsInput(c.id, { quietHours }));
      expect(deferred).toMatchObject({ status: 'deferred', reason: 'quiet-hours' });
      expect(new Date((deferred as { retryAt: number }).retryAt).getUTCHours()).toBe((hourNow + 2) % 24);
      expect(twilio.requests).toHaveLength(0);
      // The deferral gave the lease back: the attempt after the quiet hours sends at once.
      const outside = { start: (hourNow + 3) % 24, end: (hourNow + 4) % 24 };
      expect(await sendMessage(deps, smsInput(c.id, { quietHours: outside, deferrals: 1 }))).toMatchObject({ status: 'sent', channel: 'sms' });
      const rows = await store.listOutcomes({ workflowId: input(c.id).workflowId });
      expect(rows.map((r) => [r.status, r.reason])).toEqual([
        ['deferred', 'quiet-hours'],
        ['sent', null],
      ]);
    });

    it('gives up a message past its deadline, and an SMS whose quiet hours end after it', async () => {
      const c = await seed({ preferredChannel: 'sms', timezone: 'UTC' });
      expect(await sendMessage(deps, input(c.id, { notAfter: Date.now() - 1 }))).toEqual({ status: 'skipped', reason: 'expired', channel: 'email' });
      const hourNow = new Date().getUTCHours();
      const quietHours = { start: (hourNow + 23) % 24, end: (hourNow + 2) % 24 };
      const late = smsInput(c.id, { stepId: 'offer', step: 'offer', quietHours, notAfter: Date.now() + 60_000 });
      expect(await sendMessage(deps, late)).toEqual({ status: 'skipped', reason: 'expired', channel: 'sms' });
      expect(smtp.messages).toHaveLength(0);
      expect(twilio.requests).toHaveLength(0);
    });

    it('gives the frequency slot back when the message did not go out', async () => {
      deps.frequencyCap = { ...deps.frequencyCap, email: { max: 1, windowMs: DAY } };
      const c = await seed();
      const broken = await sendMessage(deps, input(c.id, { templateId: 'complaint/does-not-exist' }));
      expect(broken).toMatchObject({ status: 'skipped' });
      const next = await sendMessage(deps, input(c.id, { stepId: 'update-1', step: 'update-1', templateId: 'complaint/update', whenCapped: 'skip' }));
      expect(next).toMatchObject({ status: 'sent', channel: 'email' });
    });

    it('records in the ledger the channel used after a fallback', async () => {
      const c = await seed({ consentEmail: false });
      expect(await sendMessage(deps, input(c.id))).toMatchObject({ status: 'sent', channel: 'sms' });
      expect(await store.getSend(keyOf(input(c.id)))).toMatchObject({ requestedChannel: 'email', channel: 'sms', status: 'sent' });
    });
  });
});
