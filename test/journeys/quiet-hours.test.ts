import { defaultPayloadConverter } from '@temporalio/common';
import { parseDefinition } from '../../src/campaigns/catalog';
import type { SendMessageInput } from '../../src/shared/activity-contracts';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { journeyStateQuery } from '../../src/shared/messages';
import { journeyWorkflowId, startJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, timestampMs, waitForState, type JourneyTestKit } from './journey-env';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Tokyo has no daylight saving time: its local hours start exactly on UTC hour boundaries. */
const TOKYO = 'Asia/Tokyo';

function localHour(at: number, timeZone: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(at));
}

/**
 * Quiet hours that put `at` in Tokyo one hour after quiet time began and ends three hours after the current
 * local hour: whichever moment of the hour the test server starts at, the start is quiet and the window
 * opens at a known instant ({@link quietEndsAt}).
 */
function quietAround(at: number): { start: number; end: number } {
  const hour = localHour(at, TOKYO);
  return { start: (hour + 23) % 24, end: (hour + 3) % 24 };
}

/** The instant sending may resume for a journey started at `at` under {@link quietAround}: three Tokyo hours on, on the hour. */
function quietEndsAt(at: number): number {
  return at - (at % HOUR) + 3 * HOUR;
}

const onboarding = (quietHours: { start: number; end: number }): CampaignDefinitionInput => ({
  id: 'onboarding-quiet',
  version: 1,
  stage: 'onboarding',
  holdoutPercent: 0,
  quietHours,
  steps: [
    { id: 'welcome', channel: 'email', template: 'onboarding/welcome' },
    { id: 'tip-1', channel: 'sms', template: 'onboarding/tip-1' },
  ],
  finalWait: '1 hour',
});

interface SendAttempt {
  step: string;
  channel: string;
  /** Workflow (server) time the sendMessage activity was scheduled at. */
  scheduledAt: number;
}

/**
 * When each sendMessage activity was scheduled, from the workflow history: history timestamps are the
 * server's (skipped) clock, unlike `occurredAt` in outcome rows, which the activity takes from the
 * worker's real clock.
 */
async function sendAttempts(kit: JourneyTestKit, workflowId: string): Promise<SendAttempt[]> {
  const history = await kit.env.client.workflow.getHandle(workflowId).fetchHistory();
  const attempts: SendAttempt[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'sendMessage') continue;
    const [input] = (scheduled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<SendMessageInput>(p));
    attempts.push({ step: input?.step ?? '?', channel: input?.channel ?? '?', scheduledAt: timestampMs(event.eventTime) });
  }
  return attempts;
}

describe('SMS quiet hours in a journey (time skipping, real store, SMTP and Twilio-shaped servers)', () => {
  let kit: JourneyTestKit;
  beforeEach(async () => {
    kit = await startJourneyKit();
  });
  afterEach(async () => {
    await kit?.close();
  });

  const smsTo = (phone: string | null) => kit.twilio.requests.filter((r) => r.form.To === phone);

  it('holds the SMS until quiet hours end in the customer\'s zone, while email in the same window goes at once', async () => {
    const startedAt = await kit.env.currentTimeMs();
    const opensAt = quietEndsAt(startedAt);
    kit.catalog.defaults.set('onboarding', parseDefinition(onboarding(quietAround(startedAt)), 'test'));
    const customer = await seedCustomer(kit.store, { timezone: TOKYO });

    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId: customer.id });
      const handle = kit.env.client.workflow.getHandle(workflowId);

      // settles either waiting for the window or (quiet hours ignored) with both messages sent
      const waiting = await waitForState(kit, workflowId, (s) => s.details.waitingForQuietHoursUntil !== undefined || s.messagesSent === 2);
      expect(waiting).toMatchObject({ currentStep: 'tip-1', messagesSent: 1, details: { waitingForQuietHoursUntil: opensAt } });
      expect(kit.smtp.messages.filter((m) => m.envelope.to.includes(customer.email as string))).toHaveLength(1);
      expect(smsTo(customer.phone)).toHaveLength(0);

      // a minute before the window opens: still nothing
      await kit.env.sleep(opensAt - MINUTE - (await kit.env.currentTimeMs()));
      expect(await handle.query(journeyStateQuery)).toMatchObject({ currentStep: 'tip-1', messagesSent: 1 });
      expect(smsTo(customer.phone)).toHaveLength(0);

      expect(await handle.result()).toMatchObject({ outcome: 'completed', messagesSent: 2 });
      await kit.expectRunningAndStop(journeyWorkflowId('nurture', customer.id));
    });

    expect(smsTo(customer.phone)).toHaveLength(1);
    const attempts = await sendAttempts(kit, journeyWorkflowId('onboarding', customer.id));
    expect(attempts.map((a) => `${a.step}:${a.channel}`)).toEqual(['welcome:email', 'tip-1:sms']);
    const [email, sms] = attempts as [SendAttempt, SendAttempt];
    expect(email.scheduledAt).toBeLessThan(opensAt);
    expect(sms.scheduledAt).toBeGreaterThanOrEqual(opensAt);
    expect(sms.scheduledAt).toBeLessThan(opensAt + HOUR);
    const outcomes = await kit.store.listOutcomes({ workflowId: journeyWorkflowId('onboarding', customer.id), status: 'sent' });
    expect(outcomes.map((o) => `${o.step}:${o.channel}`)).toEqual(['welcome:email', 'tip-1:sms']);
  });

  it('sends the SMS at once to a customer whose local time is outside the same quiet hours', async () => {
    const startedAt = await kit.env.currentTimeMs();
    const quiet = quietAround(startedAt);
    // UTC is nine hours behind Tokyo, far outside a four-hour window around Tokyo's current hour
    expect(localHour(startedAt, 'UTC')).not.toBe(quiet.start);
    kit.catalog.defaults.set('onboarding', parseDefinition(onboarding(quiet), 'test'));
    const customer = await seedCustomer(kit.store, { timezone: 'UTC' });

    await kit.run(async () => {
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId: customer.id });
      // both messages go out without any time being skipped
      await waitForState(kit, workflowId, (s) => s.messagesSent === 2);
      expect(smsTo(customer.phone)).toHaveLength(1);
      await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
    });
    const attempts = await sendAttempts(kit, journeyWorkflowId('onboarding', customer.id));
    expect(attempts.map((a) => `${a.step}:${a.channel}`)).toEqual(['welcome:email', 'tip-1:sms']);
    expect((attempts[1] as SendAttempt).scheduledAt).toBeLessThan(startedAt + MINUTE);
  });
});
