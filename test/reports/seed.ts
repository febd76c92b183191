import type { OutcomeRecord, Store } from '../../src/store';

/**
 * A small, fully known dataset for report tests: customers and outcome rows over a three-day period, with every
 * figure of the report worked out by hand in REPORT_SEED_EXPECTED (from the definitions in src/reports/*.ts).
 *
 * Period [2026-03-01, 2026-03-04) UTC, days D1, D2, D3 (daily trend buckets).
 * Customers:
 * - gold g1..g4 and standard s1..s6, created 2026-01-01 (the 10 customers at the start);
 * - x1 (standard), created 2026-01-01, churned 2026-02-15 (before the period: not at the start);
 * - n1, n2 (standard), created D2 10:00 (new customers); n1 churns on D3;
 * - on1..on70 (standard), created D1 08:00: the onboarding campaign's entrants (new customers).
 * Churn in the period: s1 (D1, "price"), g1 (D2, "no-answer"), s2 (D3, "price"), n1 (D3, "moved").
 * Purchases: g2 100 + 100, g3 300, s3 50 + 30, s4 20; win-back purchase s5 40.
 * Campaigns:
 * - onboarding-spring: A 20 entered / 20 sent / 18 delivered / 12 converted; B 20 / 19 sent + 1 skipped (no-consent)
 *   / 17 delivered / 9 converted; holdout "control" 30 entered / 6 converted -> enough data for a lift;
 * - winback-spring: A s1 s2 s5 g1 n1 (1 sent each, s5 won back), holdout "control" g4 s6 -> not enough data;
 * - complaint-default: five complaints (g2, s3, s4, g3, s5), one acknowledgement sent each, no holdout.
 * Ratings: CSAT 5 4 2 (D1), 5 (D2), 3 4 (D3); NPS 10 9 7 (D1), 3 (D2), 9 6 8 10 (D3).
 * Complaints (opened / first response after / resolved after): c1 D1 09:00 / 30m / 3h; c2 D1 10:00 / 2h / 26h,
 * escalated D2 10:00; c3 D2 08:00 / 5h / 50h (after the period); c4 D3 09:00 / 10m / open, escalated D3 20:00;
 * c5 D3 10:00 / 1h / 4h.
 */
export const REPORT_SEED_PERIOD = { from: new Date('2026-03-01T00:00:00.000Z'), to: new Date('2026-03-04T00:00:00.000Z') };

const HOUR = 3_600_000;
const MINUTE = 60_000;
const at = (iso: string) => new Date(`${iso}Z`);

const Z_95 = 1.959963984540054;
const liftCi = (pT: number, nT: number, pC: number, nC: number): [number, number] => {
  const se = Math.sqrt((pT * (1 - pT)) / nT + (pC * (1 - pC)) / nC);
  return [pT - pC - Z_95 * se, pT - pC + Z_95 * se];
};

/** The report's figures for REPORT_SEED_PERIOD, worked out by hand. */
export const REPORT_SEED_EXPECTED = {
  // At start: g1-g4, s1-s6 = 10 (x1 churned before). Lost: s1, g1, s2 (n1 is new) = 3.
  churnRate: 3 / 10,
  // At end: 83 created - 5 churned (x1, s1, g1, s2, n1) = 78; new: n1, n2, on1-on70 = 72; (78 - 72) / 10.
  retentionRate: 6 / 10,
  customersAtStart: 10,
  customersAtEnd: 78,
  newCustomers: 72,
  lost: 3,
  // Buyers: g2 (2 orders, 200), g3 (300), s3 (2 orders, 80), s4 (20), s5 (won back, 40): 7 orders, 640.
  orders: 7,
  revenue: 640,
  repeatPurchaseRate: 2 / 5,
  // Core = ceil(20% of 5 buyers) = 1: g3 with 300 of 640.
  coreRevenueShare: 300 / 640,
  // CLV = AOV x orders per buyer per year x 1 / churn per year = AOV x orders per buyer / churn in the period.
  // gold: AOV 500 / 3, 3 orders / 2 buyers, churn 1 of 4: 1000. standard: AOV 140 / 4, 4 orders / 3 buyers,
  // churn 2 of 6 (s1, s2): 140.
  clv: { gold: 1000, standard: 140 } as Record<string, number>,
  // Win-back: 7 entered (5 treated + 2 held out), 1 won back.
  winbackRate: 1 / 7,
  churnReasons: [
    { reason: 'price', count: 2 },
    { reason: 'moved', count: 1 },
    { reason: 'no-answer', count: 1 },
  ],
  // CSAT: 4 of 6 ratings are 4 or 5. NPS: promoters 10 9 9 10, detractors 3 6, of 8: (4 - 2) / 8 = +25.
  csat: 4 / 6,
  nps: { responses: 8, promoters: 4, passives: 2, detractors: 2, score: 25 },
  complaints: {
    opened: 5,
    resolved: 3,
    open: 2,
    escalations: 2,
    // First responses 10m 30m 1h 2h 5h: nearest-rank median (3rd) 1h, p90 (5th) 5h.
    firstResponse: { medianMs: 1 * HOUR, p90Ms: 5 * HOUR, buckets: [3, 1, 1, 0, 0, 0] },
    // Resolutions in the period 3h 4h 26h: median (2nd) 4h, p90 (3rd) 26h.
    resolution: { medianMs: 4 * HOUR, p90Ms: 26 * HOUR, buckets: [0, 2, 0, 1, 0, 0] },
  },
  // Daily trend: D1 start 10, lost s1, end 79 of which 70 new; D2 start 79, lost g1, end 80 of which 2 new;
  // D3 start 80, lost s2 and n1 (created before D3), end 78, none new.
  trend: {
    churnRate: [1 / 10, 1 / 79, 2 / 80],
    retentionRate: [9 / 10, 78 / 79, 78 / 80],
    csat: [2 / 3, 1, 1 / 2],
    nps: [(2 / 3) * 100, -100, (1 / 4) * 100],
  },
  campaigns: {
    'onboarding-spring': {
      funnel: {
        A: [20, 20, 18, 12],
        B: [20, 19, 17, 9],
        control: [30, 0, 0, 6],
      } as Record<string, number[]>,
      // Treatment 21 of 40, holdout 6 of 30.
      absoluteLift: 21 / 40 - 6 / 30,
      ci95: liftCi(21 / 40, 40, 6 / 30, 30),
    },
    'winback-spring': { funnel: { A: [5, 5, 0, 1], control: [2, 0, 0, 0] } as Record<string, number[]> },
    'complaint-default': { funnel: { A: [5, 5, 0, 0] } as Record<string, number[]> },
  },
};

interface CustomerSeed {
  id: string;
  tier: string;
  createdAt: Date;
}

function customers(): CustomerSeed[] {
  const list: CustomerSeed[] = [];
  const early = at('2026-01-01T00:00:00');
  for (let i = 1; i <= 4; i++) list.push({ id: `g${i}`, tier: 'gold', createdAt: early });
  for (let i = 1; i <= 6; i++) list.push({ id: `s${i}`, tier: 'standard', createdAt: early });
  list.push({ id: 'x1', tier: 'standard', createdAt: early });
  list.push({ id: 'n1', tier: 'standard', createdAt: at('2026-03-02T10:00:00') });
  list.push({ id: 'n2', tier: 'standard', createdAt: at('2026-03-02T10:00:00') });
  for (let i = 1; i <= 70; i++) list.push({ id: `on${i}`, tier: 'standard', createdAt: at('2026-03-01T08:00:00') });
  return list;
}

type Row = Omit<OutcomeRecord, 'step' | 'variant' | 'holdout'> & Partial<Pick<OutcomeRecord, 'step' | 'variant' | 'holdout'>>;

function onboardingRows(): { rows: Row[]; delivered: string[] } {
  const rows: Row[] = [];
  const delivered: string[] = [];
  // Groups in order: A on1-on20, B on21-on40, control on41-on70.
  const groups = [
    { variant: 'A', holdout: false, first: 1, size: 20, sent: 20, delivered: 18, converted: 12 },
    { variant: 'B', holdout: false, first: 21, size: 20, sent: 19, delivered: 17, converted: 9 },
    { variant: 'control', holdout: true, first: 41, size: 30, sent: 0, delivered: 0, converted: 6 },
  ];
  for (const g of groups) {
    for (let k = 0; k < g.size; k++) {
      const customerId = `on${g.first + k}`;
      const common = { customerId, stage: 'onboarding', campaignId: 'onboarding-spring', variant: g.variant, holdout: g.holdout, workflowId: `onboarding-${customerId}` };
      rows.push({ ...common, step: 'start', status: 'entered', occurredAt: at('2026-03-01T08:00:00') });
      if (!g.holdout) {
        if (k < g.sent) {
          const providerMessageId = `msg-${customerId}`;
          rows.push({ ...common, step: 'welcome', channel: 'email', status: 'sent', occurredAt: at('2026-03-01T09:00:00'), data: { providerMessageId } });
          if (k < g.delivered) {
            delivered.push(providerMessageId);
            // What the status callback writes on a delivery receipt (src/triggers/consent.ts recordDeliveryReport).
            rows.push({ ...common, step: 'welcome', channel: 'email', status: 'delivered', occurredAt: at('2026-03-01T09:05:00'), data: { providerMessageId } });
          }
        } else {
          rows.push({ ...common, step: 'welcome', channel: 'email', status: 'skipped', reason: 'no-consent', occurredAt: at('2026-03-01T09:00:00') });
        }
      }
      if (k < g.converted) rows.push({ ...common, step: 'activated', status: 'converted', occurredAt: at('2026-03-02T09:00:00') });
    }
  }
  return { rows, delivered };
}

function winbackRows(): Row[] {
  const rows: Row[] = [];
  const run = (customerId: string, holdout: boolean, entered: string) => {
    const common = { customerId, stage: 'winback', campaignId: 'winback-spring', variant: holdout ? 'control' : 'A', holdout, workflowId: `winback-${customerId}` };
    rows.push({ ...common, step: 'start', status: 'entered', occurredAt: at(entered) });
    if (!holdout) rows.push({ ...common, step: 'miss-you', channel: 'email', status: 'sent', occurredAt: new Date(at(entered).getTime() + 5 * MINUTE), data: { providerMessageId: `msg-wb-${customerId}` } });
    return common;
  };
  for (const id of ['s1', 's2', 's5', 'g1']) run(id, false, '2026-03-01T01:00:00');
  run('n1', false, '2026-03-02T12:00:00');
  for (const id of ['g4', 's6']) run(id, true, '2026-03-01T01:00:00');
  const churn = (customerId: string, when: string, reason: string) =>
    rows.push({ customerId, stage: 'winback', campaignId: 'winback-spring', variant: 'A', holdout: false, step: 'last-chance', status: 'churned', reason, workflowId: `winback-${customerId}`, occurredAt: at(when) });
  churn('s1', '2026-03-01T12:00:00', 'price');
  churn('g1', '2026-03-02T12:00:00', 'no-answer');
  churn('s2', '2026-03-03T12:00:00', 'price');
  churn('n1', '2026-03-03T15:00:00', 'moved');
  rows.push({ customerId: 's5', stage: 'winback', campaignId: 'winback-spring', variant: 'A', holdout: false, step: 'offer', status: 'won_back', value: 40, workflowId: 'winback-s5', occurredAt: at('2026-03-02T14:00:00') });
  // x1 lapsed and churned before the period.
  const x1 = { customerId: 'x1', stage: 'winback', campaignId: 'winback-spring', variant: 'A', holdout: false, workflowId: 'winback-x1' };
  rows.push({ ...x1, step: 'start', status: 'entered', occurredAt: at('2026-02-01T01:00:00') });
  rows.push({ ...x1, step: 'last-chance', status: 'churned', reason: 'price', occurredAt: at('2026-02-15T01:00:00') });
  return rows;
}

function purchaseRows(): Row[] {
  const purchase = (customerId: string, amount: number, when: string): Row => ({
    customerId,
    stage: 'nurture',
    campaignId: 'nurture-default',
    step: 'purchase',
    status: 'purchase',
    value: amount,
    workflowId: `nurture-${customerId}`,
    occurredAt: at(when),
  });
  return [
    purchase('g2', 100, '2026-03-01T10:00:00'),
    purchase('g2', 100, '2026-03-02T10:00:00'),
    purchase('g3', 300, '2026-03-02T11:00:00'),
    purchase('s3', 50, '2026-03-01T11:00:00'),
    purchase('s3', 30, '2026-03-03T11:00:00'),
    purchase('s4', 20, '2026-03-02T12:00:00'),
    // Outside the period: not counted.
    purchase('g2', 999, '2026-02-20T10:00:00'),
  ];
}

function complaintRows(): Row[] {
  const rows: Row[] = [];
  const complaint = (ticket: string, customerId: string, opened: string, firstResponseMs: number, resolvedMs: number | null, escalatedAt?: string) => {
    const openedAt = at(opened).getTime();
    const common = { customerId, stage: 'complaint', campaignId: 'complaint-default', workflowId: `complaint-${customerId}-${ticket}` };
    rows.push({ ...common, step: 'open', status: 'entered', occurredAt: new Date(openedAt) });
    rows.push({ ...common, step: 'acknowledge', channel: 'email', status: 'sent', occurredAt: new Date(openedAt + MINUTE), data: { providerMessageId: `msg-${ticket}` } });
    rows.push({ ...common, step: 'first-response', status: 'first_response', value: firstResponseMs, occurredAt: new Date(openedAt + firstResponseMs) });
    if (resolvedMs !== null) rows.push({ ...common, step: 'resolved', status: 'resolved', value: resolvedMs, occurredAt: new Date(openedAt + resolvedMs) });
    if (escalatedAt) rows.push({ ...common, step: 'sla', status: 'escalated', occurredAt: at(escalatedAt) });
  };
  complaint('c1', 'g2', '2026-03-01T09:00:00', 30 * MINUTE, 3 * HOUR);
  complaint('c2', 's3', '2026-03-01T10:00:00', 2 * HOUR, 26 * HOUR, '2026-03-02T10:00:00');
  complaint('c3', 's4', '2026-03-02T08:00:00', 5 * HOUR, 50 * HOUR);
  complaint('c4', 'g3', '2026-03-03T09:00:00', 10 * MINUTE, null, '2026-03-03T20:00:00');
  complaint('c5', 's5', '2026-03-03T10:00:00', 1 * HOUR, 4 * HOUR);
  return rows;
}

function ratingRows(): Row[] {
  const csat = (customerId: string, value: number, when: string): Row => ({
    customerId,
    stage: 'complaint',
    campaignId: 'complaint-default',
    step: 'survey',
    status: 'csat',
    value,
    workflowId: `complaint-${customerId}-survey`,
    occurredAt: at(when),
  });
  const nps = (customerId: string, value: number, when: string): Row => ({
    customerId,
    stage: 'nurture',
    campaignId: 'nurture-default',
    step: 'nps-survey',
    status: 'nps',
    value,
    workflowId: `nurture-${customerId}`,
    occurredAt: at(when),
  });
  return [
    csat('g2', 5, '2026-03-01T13:00:00'),
    csat('s3', 4, '2026-03-01T14:00:00'),
    csat('s4', 2, '2026-03-01T15:00:00'),
    csat('g3', 5, '2026-03-02T13:00:00'),
    csat('s5', 3, '2026-03-03T13:00:00'),
    csat('g4', 4, '2026-03-03T14:00:00'),
    nps('g2', 10, '2026-03-01T16:00:00'),
    nps('g3', 9, '2026-03-01T16:00:00'),
    nps('s3', 7, '2026-03-01T16:00:00'),
    nps('s4', 3, '2026-03-02T16:00:00'),
    nps('s5', 9, '2026-03-03T16:00:00'),
    nps('s6', 6, '2026-03-03T16:00:00'),
    nps('g4', 8, '2026-03-03T16:00:00'),
    nps('n2', 10, '2026-03-03T16:00:00'),
  ];
}

/** Writes the dataset into a migrated, empty store. */
export async function seedReportDataset(store: Store): Promise<void> {
  const seeds = customers();
  for (const c of seeds) await store.upsertCustomer({ id: c.id, name: `Customer ${c.id}`, email: `${c.id}@example.com`, tier: c.tier, consentEmail: true });
  // The store stamps created_at with the current time; customers here have a history.
  for (const createdAt of new Set(seeds.map((c) => c.createdAt.getTime()))) {
    const ids = seeds.filter((c) => c.createdAt.getTime() === createdAt).map((c) => c.id);
    await store.kysely.updateTable('customers').set({ created_at: createdAt }).where('id', 'in', ids).execute();
  }
  const onboarding = onboardingRows();
  const rows = [...onboarding.rows, ...winbackRows(), ...purchaseRows(), ...complaintRows(), ...ratingRows()];
  for (const row of rows) await store.recordOutcome({ step: row.status, variant: 'A', holdout: false, ...row });
  for (const id of onboarding.delivered) await store.recordMessageStatus(id, 'email', 'delivered', at('2026-03-01T09:05:00'));
}
