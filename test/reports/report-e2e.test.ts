import { computeReport } from '../../src/reports/compute';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { assign } from '../../src/shared/assignment';
import { customerEventSignal } from '../../src/shared/messages';
import { startJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, type JourneyTestKit } from '../journeys/journey-env';

const CAMPAIGN = 'onboarding-report-e2e';
const VARIANTS = [
  { name: 'A', weight: 1 },
  { name: 'B', weight: 1 },
];
const definition = {
  id: CAMPAIGN,
  version: 1,
  stage: 'onboarding',
  holdoutPercent: 40,
  variants: VARIANTS,
  steps: [
    { id: 'welcome', template: 'onboarding/welcome' },
    { id: 'tip-1', after: '1 hour', template: 'onboarding/tip-1' },
  ],
  finalWait: '2 hours',
} as CampaignDefinitionInput;

/**
 * Onboarding hands every customer to nurture (and nurture, after inactivity, to win-back), where onboarding's holdout
 * does not apply. The time-skipping server may run far ahead while the test waits for results, so those stages hold
 * everyone out: the fakes then receive this campaign's messages only.
 */
const quietWinback = {
  id: 'winback-report-e2e',
  version: 1,
  stage: 'winback',
  holdoutPercent: 100,
  inactiveDays: 60,
  steps: [{ id: 'we-miss-you', after: '0s', template: 'winback/we-miss-you' }],
  offer: { discountPercent: 15, validFor: '10 days' },
  finalWait: '5 days',
  churnSurvey: { template: 'winback/churn-survey', timeout: '7 days' },
} as CampaignDefinitionInput;
const quietNurture = {
  id: 'nurture-report-e2e',
  version: 1,
  stage: 'nurture',
  holdoutPercent: 100,
  touch: { every: '365 days', template: 'nurture/touch' },
  loyalty: { pointsPerCurrencyUnit: 1, tiers: [{ name: 'standard', minPoints: 0 }], tierUpTemplate: 'nurture/tier-up' },
  anniversary: { every: '365 days', template: 'nurture/anniversary' },
  inactivity: { threshold: '365 days' },
} as CampaignDefinitionInput;

interface Participant {
  id: string;
  email: string;
  phone: string;
  holdout: boolean;
  variant: string;
  activated: boolean;
}

/** Customer ids whose (deterministic) assignment gives 5 held-out and 9 treated customers. */
function pickIds(): Array<{ id: string; holdout: boolean; variant: string }> {
  const held: Array<{ id: string; holdout: boolean; variant: string }> = [];
  const treated: typeof held = [];
  for (let i = 0; held.length < 5 || treated.length < 9; i++) {
    const id = `report-e2e-${i}`;
    const a = assign(id, CAMPAIGN, 40, VARIANTS);
    const group = a.holdout ? held : treated;
    if (group.length < (a.holdout ? 5 : 9)) group.push({ id, ...a });
  }
  return [...held, ...treated];
}

describe('report over real campaigns (time skipping, SMTP and Twilio-shaped servers)', () => {
  let kit: JourneyTestKit;
  beforeAll(async () => {
    kit = await startJourneyKit([definition, quietNurture, quietWinback]);
  });
  afterAll(async () => {
    await kit?.close();
  });

  it('counts entries, messages and conversions per variant and holdout as the fakes received them', async () => {
    const from = new Date(Date.now() - 86_400_000);
    const participants: Participant[] = [];
    let activationsLeft = { held: 2, treated: 4 };
    for (const [index, picked] of pickIds().entries()) {
      // Every third customer prefers SMS, so both transports carry messages.
      const customer = await seedCustomer(kit.store, { id: picked.id, preferredChannel: index % 3 === 0 ? 'sms' : 'email' });
      const key = picked.holdout ? 'held' : 'treated';
      const activated = activationsLeft[key] > 0;
      if (activated) activationsLeft = { ...activationsLeft, [key]: activationsLeft[key] - 1 };
      participants.push({ ...picked, email: customer.email as string, phone: customer.phone as string, activated });
    }

    await kit.run(async () => {
      const handles = [];
      for (const p of participants) {
        const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId: p.id });
        const handle = kit.env.client.workflow.getHandle(workflowId);
        if (p.activated) await handle.signal(customerEventSignal, { type: 'activation' });
        handles.push(handle);
      }
      // One at a time: each result() lets the time-skipping server jump ahead until that journey ends.
      const results = [];
      for (const handle of handles) results.push(await handle.result());
      expect(results.map((r) => r.outcome)).toEqual(participants.map((p) => (p.activated ? 'converted' : 'completed')));
      // Onboarding hands every customer to nurture: stop what still runs of those journeys.
      for (const p of participants) {
        for (const workflowId of [`nurture-${p.id}`, `winback-${p.id}`]) {
          await kit.env.client.workflow.getHandle(workflowId).terminate('test finished').catch(() => undefined);
        }
      }
    });
    const to = new Date((await kit.env.currentTimeMs()) + 86_400_000);

    const received = (p: Participant) =>
      kit.smtp.messages.filter((m) => m.envelope.to.includes(p.email)).length + kit.twilio.requests.filter((r) => r.form.To === p.phone).length;
    for (const p of participants.filter((x) => x.holdout)) expect(received(p)).toBe(0);
    expect(kit.twilio.requests.length).toBeGreaterThan(0);
    expect(kit.smtp.messages.length).toBeGreaterThan(0);

    const report = await computeReport(kit.store, { from, to, campaignId: CAMPAIGN });
    expect(report.campaigns).toHaveLength(1);
    const [campaign] = report.campaigns;
    const groups = new Map<string, Participant[]>();
    for (const p of participants) {
      const key = `${p.variant}/${p.holdout}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    expect(campaign?.variants.map((v) => `${v.variant}/${v.holdout}`).sort()).toEqual([...groups.keys()].sort());
    for (const v of campaign?.variants ?? []) {
      const members = groups.get(`${v.variant}/${v.holdout}`) ?? [];
      const messages = members.reduce((sum, p) => sum + received(p), 0);
      expect({ group: `${v.variant}/${v.holdout}`, entered: v.entered, sent: v.sent, conversions: v.conversions, failed: v.failed }).toEqual({
        group: `${v.variant}/${v.holdout}`,
        entered: members.length,
        sent: messages,
        conversions: members.filter((p) => p.activated).length,
        failed: 0,
      });
      if (v.holdout) {
        // Held-out customers are "sent" nothing: each step they reached is a skip with reason holdout.
        const reached = members.reduce((sum, p) => sum + (p.activated ? 1 : 2), 0);
        expect(v.skippedByReason).toEqual([{ reason: 'holdout', count: reached }]);
      } else {
        expect(v.skipped).toBe(0);
      }
    }
    const treated = participants.filter((p) => !p.holdout);
    const held = participants.filter((p) => p.holdout);
    expect(campaign?.lift).toMatchObject({
      enoughData: false,
      treatment: { numerator: treated.filter((p) => p.activated).length, denominator: treated.length },
      control: { numerator: held.filter((p) => p.activated).length, denominator: held.length },
    });
    const totalMessages = participants.reduce((sum, p) => sum + received(p), 0);
    expect(campaign?.variants.reduce((sum, v) => sum + v.sent, 0)).toBe(totalMessages);
  }, 300_000);
});
