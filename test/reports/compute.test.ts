import { computeReport } from '../../src/reports/compute';
import type { OutcomeRecord, Store } from '../../src/store';
import { backends, storeFixture } from '../store/backends';

/**
 * A small dataset whose figures are worked out by hand below from the formulas (src/reports/*), for March 2025.
 * Customers: a1 (standard, Jan), a2 (standard, Jan, churns Mar 10), a3 (gold, Feb, churned Feb 20), a4 (gold, Feb),
 * a5 (standard, Feb, churns Apr 5), n1 (standard, new Mar 5), n2 (gold, new Mar 20, churns Mar 25), f1 (April).
 */
const FROM = new Date('2025-03-01T00:00:00Z');
const TO = new Date('2025-04-01T00:00:00Z');
const at = (day: string, time = '12:00') => new Date(`${day}T${time}:00Z`);
const HOUR = 3_600_000;

const CUSTOMERS: Array<[string, string, string]> = [
  ['a1', 'standard', '2025-01-10'],
  ['a2', 'standard', '2025-01-15'],
  ['a3', 'gold', '2025-02-01'],
  ['a4', 'gold', '2025-02-10'],
  ['a5', 'standard', '2025-02-12'],
  ['n1', 'standard', '2025-03-05'],
  ['n2', 'gold', '2025-03-20'],
  ['f1', 'standard', '2025-04-10'],
];

type Row = [customer: string, stage: string, campaign: string, workflow: string, status: OutcomeRecord['status'], day: string, extra?: Partial<OutcomeRecord>];

const ROWS: Row[] = [
  // Onboarding campaign: a1 (variant A) and a4 (B) treated, n1 held out (A).
  ['a1', 'onboarding', 'welcome-t', 'onb-a1', 'entered', '2025-03-01'],
  ['a1', 'onboarding', 'welcome-t', 'onb-a1', 'sent', '2025-03-01', { step: 'welcome' }],
  ['a1', 'onboarding', 'welcome-t', 'onb-a1', 'delivered', '2025-03-01', { step: 'welcome' }],
  ['a1', 'onboarding', 'welcome-t', 'onb-a1', 'sent', '2025-03-02', { step: 'tip-1' }],
  ['a1', 'onboarding', 'welcome-t', 'onb-a1', 'converted', '2025-03-03'],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'entered', '2025-03-01', { variant: 'B' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'sent', '2025-03-01', { variant: 'B', step: 'welcome' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'deferred', '2025-03-02', { variant: 'B', step: 'tip-1', reason: 'frequency-cap' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'failed', '2025-03-03', { variant: 'B', step: 'tip-1', reason: 'transient: 421' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'bounced', '2025-03-04', { variant: 'B', step: 'tip-2', reason: 'invalid-address: 550' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'skipped', '2025-03-05', { variant: 'B', step: 'tip-3', reason: 'no-email-consent' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'in_doubt', '2025-03-06', { variant: 'B', step: 'tip-4', reason: 'in-doubt-held' }],
  ['a4', 'onboarding', 'welcome-t', 'onb-a4', 'completed', '2025-03-07', { variant: 'B' }],
  ['n1', 'onboarding', 'welcome-t', 'onb-n1', 'entered', '2025-03-05', { holdout: true }],
  ['n1', 'onboarding', 'welcome-t', 'onb-n1', 'skipped', '2025-03-05', { holdout: true, step: 'welcome', reason: 'holdout' }],
  ['n1', 'onboarding', 'welcome-t', 'onb-n1', 'skipped', '2025-03-06', { holdout: true, step: 'tip-1', reason: 'holdout' }],
  ['n1', 'onboarding', 'welcome-t', 'onb-n1', 'converted', '2025-03-10', { holdout: true }],
  // Purchases: a1 10 + 30 in March (and 500 in February), a4 100, n1 20; a5 won back with 40.
  ['a1', 'nurture', 'nurture-c', 'nur-a1', 'purchase', '2025-02-15', { value: 500 }],
  ['a1', 'nurture', 'nurture-c', 'nur-a1', 'purchase', '2025-03-04', { value: 10 }],
  ['a1', 'nurture', 'nurture-c', 'nur-a1', 'purchase', '2025-03-18', { value: 30 }],
  ['a4', 'nurture', 'nurture-c', 'nur-a4', 'purchase', '2025-03-12', { value: 100 }],
  ['n1', 'nurture', 'nurture-c', 'nur-n1', 'purchase', '2025-03-22', { value: 20 }],
  // Win-back: a3 before March; in March a2 (churns), a5 (won back), n2 (churns), a4 (still running).
  ['a3', 'winback', 'winback-c', 'wb-a3', 'entered', '2025-02-10'],
  ['a3', 'winback', 'winback-c', 'wb-a3', 'churned', '2025-02-20', { reason: 'service' }],
  ['a2', 'winback', 'winback-c', 'wb-a2', 'entered', '2025-03-02'],
  ['a2', 'winback', 'winback-c', 'wb-a2', 'churned', '2025-03-10', { reason: 'price' }],
  ['a5', 'winback', 'winback-c', 'wb-a5', 'entered', '2025-03-03'],
  ['a5', 'winback', 'winback-c', 'wb-a5', 'won_back', '2025-03-08', { value: 40 }],
  ['n2', 'winback', 'winback-c', 'wb-n2', 'entered', '2025-03-21'],
  ['n2', 'winback', 'winback-c', 'wb-n2', 'churned', '2025-03-25', { reason: 'price' }],
  ['a4', 'winback', 'winback-c', 'wb-a4', 'entered', '2025-03-28'],
  ['a5', 'winback', 'winback-c', 'wb-a5', 'entered', '2025-04-01'],
  ['a5', 'winback', 'winback-c', 'wb-a5', 'churned', '2025-04-05', { reason: 'no-answer' }],
  // Complaints: c4 opened in February and resolved on March 1; c1, c2 resolved in March; c3 still open.
  ['a5', 'complaint', 'care-c', 'cmp-c4', 'entered', '2025-02-27'],
  ['a5', 'complaint', 'care-c', 'cmp-c4', 'first_response', '2025-02-27', { value: 4 * HOUR }],
  ['a5', 'complaint', 'care-c', 'cmp-c4', 'resolved', '2025-03-01', { value: 48 * HOUR }],
  ['a1', 'complaint', 'care-c', 'cmp-c1', 'entered', '2025-03-02'],
  ['a1', 'complaint', 'care-c', 'cmp-c1', 'first_response', '2025-03-02', { value: 1 * HOUR }],
  ['a1', 'complaint', 'care-c', 'cmp-c1', 'resolved', '2025-03-02', { value: 5 * HOUR }],
  ['a4', 'complaint', 'care-c', 'cmp-c2', 'entered', '2025-03-05'],
  ['a4', 'complaint', 'care-c', 'cmp-c2', 'first_response', '2025-03-05', { value: 3 * HOUR }],
  ['a4', 'complaint', 'care-c', 'cmp-c2', 'escalated', '2025-03-06', { reason: 'resolution-sla' }],
  ['a4', 'complaint', 'care-c', 'cmp-c2', 'resolved', '2025-03-06', { value: 30 * HOUR }],
  ['n1', 'complaint', 'care-c', 'cmp-c3', 'entered', '2025-03-30'],
  ['n1', 'complaint', 'care-c', 'cmp-c3', 'escalated', '2025-03-30', { reason: 'first-response-sla' }],
  ['n1', 'complaint', 'care-c', 'cmp-c3', 'first_response', '2025-03-31', { value: 2 * HOUR }],
  // Ratings: CSAT 5, 4 on March 3; 2, 3 on March 6; 1 in February. NPS 10, 9, 9, 7, 3 on March 15.
  ['a1', 'complaint', 'care-c', 'cmp-c1', 'csat', '2025-03-03', { value: 5 }],
  ['a4', 'complaint', 'care-c', 'cmp-c2', 'csat', '2025-03-03', { value: 4 }],
  ['a5', 'complaint', 'care-c', 'cmp-c4', 'csat', '2025-03-06', { value: 2 }],
  ['n1', 'complaint', 'care-c', 'cmp-c3', 'csat', '2025-03-06', { value: 3 }],
  ['a3', 'complaint', 'care-c', 'cmp-c0', 'csat', '2025-02-06', { value: 1 }],
  ...[10, 9, 9, 7, 3].map((score, i): Row => [`a${i + 1}`, 'complaint', 'care-c', `cmp-n${i}`, 'nps', '2025-03-15', { value: score }]),
];

async function seed(store: Store): Promise<void> {
  for (const [id, tier, created] of CUSTOMERS) {
    await store.upsertCustomer({ id, name: id, tier });
    await store.kysely.updateTable('customers').set({ created_at: at(created, '00:00').getTime() }).where('id', '=', id).execute();
  }
  for (const [customerId, stage, campaignId, workflowId, status, day, extra] of ROWS) {
    await store.recordOutcome({ customerId, stage, campaignId, workflowId, status, step: 'start', variant: 'A', holdout: false, occurredAt: at(day), ...extra });
  }
}

describe.each(backends)('computeReport on %s', (_dialect, open) => {
  const fixture = storeFixture(open);
  beforeAll(async () => seed(fixture.store));
  const report = (extra: Partial<Parameters<typeof computeReport>[1]> = {}) => computeReport(fixture.store, { from: FROM, to: TO, ...extra });

  it('counts churn and retention from customers at the start, new and lost customers', async () => {
    const { retention } = await report();
    // At start: a1 a2 a4 a5 (a3 churned before March) = 4; new: n1 n2; lost: a2 (n2 is new, a5 churns in April).
    // At end: created before April (7) - churned before April (a2 a3 n2) = 4.
    expect(retention).toEqual({
      customersAtStart: 4,
      customersAtEnd: 4,
      newCustomers: 2,
      lost: 1,
      churnRate: { numerator: 1, denominator: 4, rate: 0.25 },
      retentionRate: { numerator: 2, denominator: 4, rate: 0.5 },
    });
  });

  it('computes the repeat purchase rate, CLV per tier and the core customers share', async () => {
    const { purchases, value } = await report();
    // March purchase events: a1 10 + 30, a4 100, n1 20, a5 won back with 40 -> 5 orders, 200 revenue, 4 buyers, 1 repeat.
    expect(purchases).toEqual({
      orders: 5,
      revenue: 200,
      customersWithPurchase: 4,
      customersWithRepeatPurchase: 1,
      repeatPurchaseRate: { numerator: 1, denominator: 4, rate: 0.25 },
    });
    // Top 20% of 4 buyers = ceil(0.8) = 1 customer: a4 with 100 of 200.
    expect(value.coreCustomers).toEqual({ customers: 1, revenue: 100, revenueShare: 0.5 });
    const years = 31 / 365.25;
    const standard = value.byTier.find((t) => t.tier === 'standard');
    // Standard: a1 (2 orders, 40), n1 (1, 20), a5 (1, 40): AOV 100 / 4 = 25, 4/3 orders per buyer in the period;
    // churn 1 of 3 at start (a1 a2 a5) -> lifespan = years / (1/3); CLV = 25 x (4/3)/years x 3 years = 100.
    expect(standard?.customers).toBe(3);
    expect(standard?.averageOrderValue).toBeCloseTo(25, 10);
    expect(standard?.purchasesPerCustomerPerYear).toBeCloseTo(4 / 3 / years, 8);
    expect(standard?.expectedLifespanYears).toBeCloseTo(3 * years, 10);
    expect(standard?.clv).toBeCloseTo(100, 8);
    // Gold: a4 alone bought (100); nobody of gold at start churned in March -> no lifespan, no CLV.
    expect(value.byTier.find((t) => t.tier === 'gold')).toEqual({
      tier: 'gold',
      customers: 1,
      averageOrderValue: 100,
      purchasesPerCustomerPerYear: expect.closeTo(1 / years, 8),
      expectedLifespanYears: null,
      clv: null,
    });
  });

  it('computes the win-back rate over March entries and counts churn reasons', async () => {
    const { winback } = await report();
    // Entered in March: a2, a5, n2, a4 (a5's April re-entry is outside); won back: a5 -> 1/4.
    expect(winback).toEqual({
      entered: 4,
      wonBack: 1,
      winbackRate: { numerator: 1, denominator: 4, rate: 0.25 },
      churnReasons: [{ reason: 'price', count: 2 }],
    });
  });

  it('computes CSAT, NPS and complaint response times, with open complaints apart', async () => {
    const { satisfaction, complaints } = await report();
    // CSAT: 5 4 2 3 -> 2 of 4 rated 4-5. NPS: promoters 10 9 9, passive 7, detractor 3 -> (3 - 1) / 5 = +40.
    expect(satisfaction).toEqual({
      csat: { numerator: 2, denominator: 4, rate: 0.5 },
      nps: { responses: 5, promoters: 3, passives: 1, detractors: 1, score: 40 },
    });
    // Opened in March: c1 c2 c3; resolved by April: c1 c2; open: c3. Escalations: c2 and c3.
    expect(complaints).toMatchObject({ opened: 3, resolved: 2, open: 1, escalations: 2 });
    // First responses in March: 1h 3h 2h -> sorted 1 2 3: median = rank ceil(1.5) = 2h, p90 = rank ceil(2.7) = 3h.
    expect(complaints.firstResponse).toMatchObject({ count: 3, medianMs: 2 * HOUR, p90Ms: 3 * HOUR });
    // Resolutions recorded in March: 48h (c4), 5h, 30h -> median 30h, p90 48h.
    expect(complaints.resolution).toMatchObject({ count: 3, medianMs: 30 * HOUR, p90Ms: 48 * HOUR });
    expect(complaints.firstResponse.buckets.map((b) => b.count)).toEqual([1, 2, 0, 0, 0, 0]);
    expect(complaints.resolution.buckets.map((b) => b.count)).toEqual([0, 0, 1, 2, 0, 0]);
  });

  it('builds the campaign funnel per variant and holdout by assignment', async () => {
    const { campaigns } = await report({ campaignId: 'welcome-t' });
    expect(campaigns).toHaveLength(1);
    const [welcome] = campaigns;
    expect(welcome?.variants).toEqual([
      { variant: 'A', holdout: false, entered: 1, sent: 2, delivered: 1, failed: 0, bounced: 0, skipped: 0, skippedByReason: [], inDoubt: 0, conversions: 1, conversionRate: { numerator: 1, denominator: 1, rate: 1 } },
      { variant: 'B', holdout: false, entered: 1, sent: 1, delivered: 0, failed: 2, bounced: 1, skipped: 1, skippedByReason: [{ reason: 'no-email-consent', count: 1 }], inDoubt: 1, conversions: 0, conversionRate: { numerator: 0, denominator: 1, rate: 0 } },
      { variant: 'A', holdout: true, entered: 1, sent: 0, delivered: 0, failed: 0, bounced: 0, skipped: 2, skippedByReason: [{ reason: 'holdout', count: 2 }], inDoubt: 0, conversions: 1, conversionRate: { numerator: 1, denominator: 1, rate: 1 } },
    ]);
    expect(welcome?.lift).toMatchObject({
      enoughData: false,
      treatment: { numerator: 1, denominator: 2, rate: 0.5 },
      control: { numerator: 1, denominator: 1, rate: 1 },
      absoluteLift: null,
      pValue: null,
      ci95: null,
    });
    expect(welcome?.lift.note).toMatch(/^not enough data/);
  });

  it('applies tier, campaign and stage filters', async () => {
    const gold = await report({ tier: 'gold' });
    // Gold: at start a4 (a3 churned before), new n2 who churns in March; at end a4 alone.
    expect(gold.retention).toMatchObject({ customersAtStart: 1, newCustomers: 1, lost: 0, customersAtEnd: 1 });
    expect(gold.purchases).toMatchObject({ orders: 1, revenue: 100 });
    expect(gold.winback).toMatchObject({ entered: 2, wonBack: 0 });

    const welcome = await report({ campaignId: 'welcome-t' });
    // The campaign's cohort: a1 a4 at start, n1 new, nobody lost: retention (3 - 1) / 2 = 1.
    expect(welcome.retention).toMatchObject({ customersAtStart: 2, newCustomers: 1, lost: 0, customersAtEnd: 3 });
    expect(welcome.purchases.orders).toBe(0);

    const complaint = await report({ stage: 'complaint' });
    expect(complaint.campaigns.map((c) => c.campaignId)).toEqual(['care-c']);
    expect(complaint.complaints).toMatchObject({ opened: 3, open: 1 });
    expect(complaint.winback.entered).toBe(0);

    const variantB = await report({ variant: 'B', campaignId: 'welcome-t' });
    expect(variantB.campaigns[0]?.variants.map((v) => v.variant)).toEqual(['B']);
  });

  it('lays out a daily trend with churn and CSAT per day', async () => {
    const { trend } = await report();
    expect(trend.interval).toBe('day');
    expect(trend.points).toHaveLength(31);
    // March 10: a1 a2 a4 a5 n1 present at the start of the day, a2 churns -> 1/5.
    expect(trend.points[9]).toMatchObject({ periodStart: '2025-03-10T00:00:00.000Z', churnRate: 0.2 });
    expect(trend.points[2]?.csat).toBe(1);
    expect(trend.points[5]?.csat).toBe(0);
    expect(trend.points[14]?.nps).toBe(40);
    expect(trend.points[0]).toMatchObject({ churnRate: 0, csat: null, nps: null });
  });

  // Last: adds its own campaign's rows, which the tests above do not expect.
  it('measures lift against the holdout when both groups are large enough', async () => {
    const entries: OutcomeRecord[] = [];
    const add = (group: string, holdout: boolean, n: number, converting: number) => {
      for (let i = 0; i < n; i++) {
        const base = { customerId: `${group}-${i}`, stage: 'onboarding', campaignId: 'lift-c', workflowId: `lift-${group}-${i}`, step: 'start', variant: 'A', holdout };
        entries.push({ ...base, status: 'entered', occurredAt: at('2025-03-10') });
        if (i < converting) entries.push({ ...base, status: 'converted', occurredAt: at('2025-03-12') });
        // A conversion before entering (an earlier run) must not count for this run.
        if (i === n - 1) entries.push({ ...base, status: 'converted', occurredAt: at('2025-03-09') });
      }
    };
    add('t', false, 100, 30);
    add('c', true, 50, 10);
    for (const entry of entries) await fixture.store.recordOutcome(entry);
    const { campaigns } = await report({ campaignId: 'lift-c' });
    // pT = 30/100, pC = 10/50: lift .1, relative .5, incremental .1 x 100 = 10; pooled z = 1.30558, p = 0.191695;
    // CI .1 -+ 1.95996 x sqrt(.3 x .7 / 100 + .2 x .8 / 50) = [-0.0426875, 0.2426875].
    const lift = campaigns[0]?.lift;
    expect(lift).toMatchObject({ enoughData: true, note: null, treatment: { numerator: 30, denominator: 100 }, control: { numerator: 10, denominator: 50 } });
    expect(lift?.absoluteLift).toBeCloseTo(0.1, 10);
    expect(lift?.relativeLift).toBeCloseTo(0.5, 10);
    expect(lift?.incrementalConversions).toBeCloseTo(10, 8);
    expect(lift?.pValue).toBeCloseTo(0.1916946, 5);
    expect(lift?.ci95?.[0]).toBeCloseTo(-0.0426875, 6);
    expect(lift?.ci95?.[1]).toBeCloseTo(0.2426875, 6);
  });
});
