import { defaultPayloadConverter } from '@temporalio/common';
import type { JourneyDeps } from '../../src/activities';
import { parseDefinition } from '../../src/campaigns/catalog';
import type { SendMessageInput, SendMessageResult } from '../../src/shared/activity-contracts';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { journeyStateQuery } from '../../src/shared/messages';
import { recordCustomerEvent } from '../../src/triggers/customer-events';
import { journeyWorkflowId, startJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, timestampMs, waitForState, type JourneyTestKit } from './journey-env';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Tokyo has no daylight saving time: its local hours start exactly on UTC hour boundaries. */
const TOKYO = 'Asia/Tokyo';
/** MAX_DEFERRALS in src/workflows/journey.ts: capped deferrals a message gets before its step is given up. */
const CAPPED_DEFERRALS_ALLOWED = 5;

/** An email cap of `max` messages per `windowMs`; SMS keeps the harness's 100 a day. */
function emailCap(max: number, windowMs: number): JourneyDeps['frequencyCap'] {
  return { email: { max, windowMs }, sms: { max: 100, windowMs: 24 * HOUR } };
}

type Steps = Extract<CampaignDefinitionInput, { stage: 'onboarding' }>['steps'];

/** An onboarding campaign whose long final wait keeps the journey running (no hand-over) while a test looks at it. */
const onboarding = (id: string, steps: Steps, overrides: Partial<CampaignDefinitionInput> = {}): CampaignDefinitionInput =>
  ({ id, version: 1, stage: 'onboarding', holdoutPercent: 0, steps, finalWait: '7 days', ...overrides }) as CampaignDefinitionInput;

interface SendAttempt {
  step: string;
  /** The channel the workflow asked for (the activity may fall back to the other one). */
  channel: string;
  deferrals: number | undefined;
  whenCapped: string;
  /** Workflow (server) time the attempt was scheduled at: the time the activity judges caps and quiet hours by. */
  scheduledAt: number;
  result?: SendMessageResult;
}

/** Every sendMessage activity of a journey with its input and result, from the workflow history (server time). */
async function sendAttempts(kit: JourneyTestKit, workflowId: string): Promise<SendAttempt[]> {
  const history = await kit.env.client.workflow.getHandle(workflowId).fetchHistory();
  const byEventId = new Map<string, SendAttempt>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'sendMessage') {
      const [input] = (scheduled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<SendMessageInput>(p));
      if (!input) throw new Error('sendMessage scheduled without input');
      byEventId.set(String(event.eventId), {
        step: input.step,
        channel: input.channel,
        deferrals: input.deferrals,
        whenCapped: input.whenCapped,
        scheduledAt: timestampMs(event.eventTime),
      });
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const attempt = completed && byEventId.get(String(completed.scheduledEventId));
    const [payload] = completed?.result?.payloads ?? [];
    if (attempt && payload) attempt.result = defaultPayloadConverter.fromPayload<SendMessageResult>(payload);
  }
  return [...byEventId.values()];
}

const outcome = (r: SendMessageResult | undefined) => (r ? `${r.status}:${'reason' in r ? r.reason : ''}` : 'pending');

/** The outcome rows one step of a journey wrote, as `status:channel:reason`. */
async function stepRows(kit: JourneyTestKit, workflowId: string, step: string): Promise<string[]> {
  const rows = await kit.store.listOutcomes({ workflowId });
  return rows.filter((o) => o.step === step).map((o) => `${o.status}:${o.channel ?? ''}:${o.reason ?? ''}`);
}

/** Emails one step of a journey delivered to the SMTP server (its Message-ID ends in the step id). */
function emailsOf(kit: JourneyTestKit, workflowId: string, step: string) {
  return kit.smtp.messages.filter((m) => new RegExp(`^Message-ID:\\s*<${workflowId}\\.[^>]*\\.${step}@retention\\.local>`, 'im').test(m.raw));
}

describe('frequency caps and deferrals in a journey (time skipping, real store, SMTP and Twilio-shaped servers)', () => {
  let kit: JourneyTestKit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  const start = (k: JourneyTestKit, customerId: string) => startJourney(k.env.client, k.catalog, k.taskQueue, { stage: 'onboarding', customerId });

  it('defers a message over the email cap and sends it once, no earlier than the oldest send leaves the window', async () => {
    // Two emails an hour: the welcome and tip-1 (20 minutes later) fill it, so tip-2, due with tip-1, must wait for
    // the welcome's slot, free one hour after the welcome went out.
    const k = (kit = await startJourneyKit(
      [
        onboarding('capped-then-sent', [
          { id: 'welcome', channel: 'email', template: 'onboarding/welcome' },
          { id: 'tip-1', after: '20 minutes', channel: 'email', template: 'onboarding/tip-1' },
          { id: 'tip-2', channel: 'email', template: 'onboarding/tip-2' },
        ]),
      ],
      undefined,
      { frequencyCap: emailCap(2, HOUR) },
    ));
    const customer = await seedCustomer(k.store);
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    await k.run(async () => {
      await start(k, customer.id);
      await k.env.sleep(3 * HOUR);
      await waitForState(k, workflowId, (s) => s.messagesSent + s.messagesSkipped === 3);
      expect(await k.env.client.workflow.getHandle(workflowId).query(journeyStateQuery)).toMatchObject({ messagesSent: 3, messagesSkipped: 0 });
      await k.expectRunningAndStop(workflowId);
    });

    const attempts = await sendAttempts(k, workflowId);
    const welcome = attempts.find((a) => a.step === 'welcome') as SendAttempt;
    const tip2 = attempts.filter((a) => a.step === 'tip-2');
    const slotFreesAt = welcome.scheduledAt + HOUR;
    // deferred (at least once, each time before the slot freed), then sent once
    expect(tip2.length).toBeGreaterThanOrEqual(2);
    expect(tip2.slice(0, -1).map((a) => outcome(a.result))).toEqual(tip2.slice(0, -1).map(() => 'deferred:frequency-cap'));
    for (const deferred of tip2.slice(0, -1)) expect(deferred.scheduledAt).toBeLessThan(slotFreesAt);
    const sent = tip2.at(-1) as SendAttempt;
    expect(sent.result).toMatchObject({ status: 'sent', channel: 'email' });
    expect(sent.scheduledAt).toBeGreaterThanOrEqual(slotFreesAt);
    // The retry is timed for the moment the slot frees, not a fixed interval later.
    expect(tip2).toHaveLength(2);
    expect(sent.scheduledAt).toBeLessThan(slotFreesAt + MINUTE);

    expect(emailsOf(k, workflowId, 'tip-2')).toHaveLength(1);
    expect(await stepRows(k, workflowId, 'tip-2')).toEqual([...tip2.slice(0, -1).map(() => 'deferred:email:frequency-cap'), 'sent:email:']);
  });

  it('gives the step up as frequency-capped on the attempt after the last deferral it allows, while the cap is still full', async () => {
    // Six emails in six hours, all taken by the journey's first six messages. Whenever slots free, other senders
    // (other campaigns' messages, here the test writing reservations just before the attempt) take them first, so the
    // message stays capped on every attempt until the journey gives it up.
    const fill = ['welcome', 'tip-1', 'tip-2', 'tip-3', 'welcome', 'tip-1'].map((template, i) => ({ id: `fill-${i + 1}`, channel: 'email' as const, template: `onboarding/${template}` }));
    const cap = { max: 6, windowMs: 6 * HOUR };
    const competingSenders = async (customerId: string, attempt: number) => {
      const current = kit as JourneyTestKit;
      const now = new Date((await current.deps.clock?.()) ?? Date.now());
      const reserve = (i: number) => current.store.reserveFrequencySlot({ customerId, channel: 'email', ...cap, now, key: `other-campaign:${attempt}:${i}` });
      for (let i = 0; await reserve(i); i++);
    };
    const k = (kit = await startJourneyKit(
      [onboarding('capped-then-skipped', [...fill, { id: 'over', channel: 'email', template: 'onboarding/tip-2' }])],
      (activities) => ({
        sendMessage: async (input) => {
          if (input.step === 'over') await competingSenders(input.customerId, input.deferrals ?? 0);
          return activities.sendMessage(input);
        },
      }),
      { frequencyCap: emailCap(cap.max, cap.windowMs) },
    ));
    const customer = await seedCustomer(k.store);
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    await k.run(async () => {
      await start(k, customer.id);
      // Retries land where slots free: about 6, 12 and 18 hours after the first sends.
      await k.env.sleep(24 * HOUR);
      await waitForState(k, workflowId, (s) => s.messagesSent + s.messagesSkipped === 7);
      expect(await k.env.client.workflow.getHandle(workflowId).query(journeyStateQuery)).toMatchObject({ messagesSent: 6, messagesSkipped: 1 });
      await k.expectRunningAndStop(workflowId);
    });

    expect(await stepRows(k, workflowId, 'over')).toEqual([
      'deferred:email:frequency-cap',
      'deferred:email:frequency-cap',
      'deferred:email:frequency-cap',
      'deferred:email:frequency-cap',
      'deferred:email:frequency-cap',
      'skipped:email:frequency-cap',
    ]);
    const attempts = await sendAttempts(k, workflowId);
    const over = attempts.filter((a) => a.step === 'over');
    expect(over.map((a) => `${a.deferrals}:${a.whenCapped}:${outcome(a.result)}`)).toEqual([
      '0:defer:deferred:frequency-cap',
      '1:defer:deferred:frequency-cap',
      '2:defer:deferred:frequency-cap',
      '3:defer:deferred:frequency-cap',
      '4:defer:deferred:frequency-cap',
      '5:skip:skipped:frequency-cap',
    ]);
    expect(over).toHaveLength(CAPPED_DEFERRALS_ALLOWED + 1);
    // The first retry waited for the oldest of the six sends to leave the window; each later one for the time named.
    const firstFill = (attempts[0] as SendAttempt).scheduledAt;
    expect((over[1] as SendAttempt).scheduledAt).toBeGreaterThanOrEqual(firstFill + 6 * HOUR);
    for (let i = 1; i < over.length; i++) {
      const previous = over[i - 1] as SendAttempt;
      expect((over[i] as SendAttempt).scheduledAt).toBeGreaterThanOrEqual((previous.result as { retryAt: number }).retryAt);
    }

    expect(emailsOf(k, workflowId, 'over')).toHaveLength(0);
    expect(k.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(6);
  });

  // With the product's default caps (5 emails in 7 days) and sendWithin (3 days): a retry every window/max (33.6 hours)
  // would pass the deadline and give this message up, although a slot frees two hours before its deadline.
  it('sends a capped message when the cap frees a slot before its deadline', async () => {
    const fill = ['welcome', 'tip-1', 'tip-2', 'tip-3', 'welcome'].map((template, i) => ({ id: `fill-${i + 1}`, channel: 'email' as const, template: `onboarding/${template}` }));
    // due 98 hours after the five sends: the first of them leaves the 7-day window at 168 hours, the deadline is at 170
    const k = (kit = await startJourneyKit(
      [onboarding('capped-slot-before-deadline', [...fill, { id: 'over', after: '98 hours', channel: 'email', template: 'onboarding/tip-2' }])],
      undefined,
      { frequencyCap: emailCap(5, 7 * 24 * HOUR) },
    ));
    const customer = await seedCustomer(k.store);
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    await k.run(async () => {
      await start(k, customer.id);
      await k.env.sleep(8 * 24 * HOUR);
      await waitForState(k, workflowId, (s) => s.messagesSent + s.messagesSkipped === 6);
      await k.expectRunningAndStop(workflowId);
    });

    const attempts = await sendAttempts(k, workflowId);
    const slotFreesAt = (attempts[0] as SendAttempt).scheduledAt + 7 * 24 * HOUR;
    const over = attempts.filter((a) => a.step === 'over');
    const deadline = (over[0] as SendAttempt).scheduledAt + 3 * 24 * HOUR;
    expect(slotFreesAt).toBeLessThan(deadline);
    expect(await stepRows(k, workflowId, 'over')).toContain('sent:email:');
    expect((over.at(-1) as SendAttempt).scheduledAt).toBeGreaterThanOrEqual(slotFreesAt);
    expect(emailsOf(k, workflowId, 'over')).toHaveLength(1);
  });

  it('ends the journey at once on an unsubscribe that arrives while a capped message waits, and never sends it', async () => {
    const k = (kit = await startJourneyKit(
      [
        onboarding(
          'capped-unsubscribe-end',
          [
            { id: 'welcome', channel: 'email', template: 'onboarding/welcome' },
            { id: 'tip-1', channel: 'email', template: 'onboarding/tip-1' },
          ],
          { onUnsubscribe: 'end' },
        ),
      ],
      undefined,
      { frequencyCap: emailCap(1, HOUR) },
    ));
    const customer = await seedCustomer(k.store);
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    const ctx = { client: k.env.client, catalog: k.catalog, taskQueue: k.taskQueue, store: k.store };
    let retryAt = 0;
    let unsubscribedAt = 0;
    await k.run(async () => {
      await start(k, customer.id);
      const waiting = await waitForState(k, workflowId, (s) => s.currentStep === 'tip-1' && s.nextActionAt !== undefined);
      retryAt = waiting.nextActionAt as number;
      await k.env.sleep(10 * MINUTE);
      unsubscribedAt = await k.env.currentTimeMs();
      // the product's path: consent withdrawn in the store, then the event signalled to running journeys
      await recordCustomerEvent(ctx, customer.id, { type: 'unsubscribe', channel: 'all' });
      expect(await k.env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'unsubscribed', messagesSent: 1 });
      await k.expectRunningAndStop(journeyWorkflowId('nurture', customer.id));
    });

    const tip1 = (await sendAttempts(k, workflowId)).filter((a) => a.step === 'tip-1');
    expect(tip1.map((a) => outcome(a.result))).toEqual(['deferred:frequency-cap']);
    expect(unsubscribedAt).toBeLessThan(retryAt);
    const closedAt = (await k.env.client.workflow.getHandle(workflowId).describe()).closeTime?.getTime() as number;
    expect(closedAt).toBeLessThan(retryAt);
    expect(emailsOf(k, workflowId, 'tip-1')).toHaveLength(0);
    expect(k.twilio.messages.filter((m) => m.to === customer.phone)).toHaveLength(0);
    // the journey's own outcome is recorded at the step it stopped in
    expect(await stepRows(k, workflowId, 'tip-1')).toEqual(['deferred:email:frequency-cap', 'unsubscribed::']);
  });

  it('keeps a muted journey going after an unsubscribe that arrives while a capped message waits, and never sends it', async () => {
    const k = (kit = await startJourneyKit(
      [
        onboarding(
          'capped-unsubscribe-mute',
          [
            { id: 'welcome', channel: 'email', template: 'onboarding/welcome' },
            { id: 'tip-1', channel: 'email', template: 'onboarding/tip-1' },
            { id: 'tip-2', after: '2 hours', channel: 'email', template: 'onboarding/tip-2' },
          ],
          { onUnsubscribe: 'mute' },
        ),
      ],
      undefined,
      { frequencyCap: emailCap(1, HOUR) },
    ));
    const customer = await seedCustomer(k.store);
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    const ctx = { client: k.env.client, catalog: k.catalog, taskQueue: k.taskQueue, store: k.store };
    await k.run(async () => {
      await start(k, customer.id);
      await waitForState(k, workflowId, (s) => s.currentStep === 'tip-1' && s.nextActionAt !== undefined);
      await k.env.sleep(10 * MINUTE);
      await recordCustomerEvent(ctx, customer.id, { type: 'unsubscribe', channel: 'all' });
      // past the retry (1 hour) and tip-2 (2 hours after tip-1)
      await k.env.sleep(4 * HOUR);
      const state = await waitForState(k, workflowId, (s) => s.messagesSent + s.messagesSkipped === 3);
      expect(state).toMatchObject({ muted: true, outcome: 'in-progress', messagesSent: 1, messagesSkipped: 2 });
      await k.expectRunningAndStop(workflowId);
    });

    // the retry at the cap's retryAt found consent gone (email, and SMS to fall back on): given up, not sent
    expect(await stepRows(k, workflowId, 'tip-1')).toEqual(['deferred:email:frequency-cap', 'skipped:email:no-email-consent']);
    expect(await stepRows(k, workflowId, 'tip-2')).toEqual(['skipped::unsubscribed']);
    expect(emailsOf(k, workflowId, 'tip-1')).toHaveLength(0);
    expect(k.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(1);
    expect(k.twilio.messages.filter((m) => m.to === customer.phone)).toHaveLength(0);
  });

  it('sends the SMS fallback of an email-opted-out customer once, after quiet hours end in the customer\'s zone', async () => {
    const k = (kit = await startJourneyKit());
    const startedAt = await k.env.currentTimeMs();
    // Quiet from the Tokyo hour before now until three Tokyo hours on: the start is quiet, and sending may resume
    // on the hour three hours after the current one (Tokyo hours begin on UTC hours).
    const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: TOKYO, hour: '2-digit', hourCycle: 'h23' }).format(startedAt));
    const quietHours = { start: (hour + 23) % 24, end: (hour + 3) % 24 };
    const opensAt = startedAt - (startedAt % HOUR) + 3 * HOUR;
    const campaign = onboarding('fallback-quiet', [{ id: 'welcome', channel: 'email', fallback: true, template: 'onboarding/welcome' }], { quietHours });
    k.catalog.defaults.set('onboarding', parseDefinition(campaign, 'test'));
    const customer = await seedCustomer(k.store, { timezone: TOKYO, consentEmail: false });
    const workflowId = journeyWorkflowId('onboarding', customer.id);
    const smsTo = () => k.twilio.messages.filter((m) => m.to === customer.phone);

    await k.run(async () => {
      await start(k, customer.id);
      const waiting = await waitForState(k, workflowId, (s) => s.currentStep === 'welcome' && (s.nextActionAt !== undefined || s.messagesSent > 0));
      expect(waiting).toMatchObject({ messagesSent: 0, nextActionAt: opensAt });
      await k.env.sleep(opensAt - MINUTE - (await k.env.currentTimeMs()));
      expect(smsTo()).toHaveLength(0);
      await k.env.sleep(2 * HOUR);
      await waitForState(k, workflowId, (s) => s.messagesSent + s.messagesSkipped === 1);
      expect(await k.env.client.workflow.getHandle(workflowId).query(journeyStateQuery)).toMatchObject({ messagesSent: 1, messagesSkipped: 0 });
      await k.expectRunningAndStop(workflowId);
    });

    expect(smsTo()).toHaveLength(1);
    expect(k.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(0);
    const attempts = await sendAttempts(k, workflowId);
    expect(attempts.map((a) => `${a.step}:${a.channel}:${outcome(a.result)}`)).toEqual(['welcome:email:deferred:quiet-hours', 'welcome:email:sent:']);
    const [deferred, sent] = attempts as [SendAttempt, SendAttempt];
    expect(deferred.result).toMatchObject({ retryAt: opensAt });
    expect(sent.result).toMatchObject({ status: 'sent', channel: 'sms' });
    expect(sent.scheduledAt).toBeGreaterThanOrEqual(opensAt);
    expect(sent.scheduledAt).toBeLessThan(opensAt + HOUR);
    expect(await stepRows(k, workflowId, 'welcome')).toEqual(['deferred:sms:quiet-hours', 'sent:sms:']);
  });
});
