/**
 * The retention report: every figure the CLI (`retention report`) and the page (`GET /reports`) show, computed
 * from the outcome store alone by `computeReport` (src/reports/compute.ts). Rates are fractions in [0, 1]; a rate
 * whose denominator is zero is `null` ("no data"), never 0 or NaN. Durations are milliseconds.
 */

export const REPORT_STAGES = ['onboarding', 'nurture', 'complaint', 'winback'] as const;

export interface ReportQuery {
  /** Inclusive start of the period. */
  from: Date;
  /** Exclusive end of the period. */
  to: Date;
  stage?: (typeof REPORT_STAGES)[number];
  campaignId?: string;
  variant?: string;
  tier?: string;
}

export interface Rate {
  numerator: number;
  denominator: number;
  /** numerator / denominator, or null when the denominator is 0. */
  rate: number | null;
}

export interface Distribution {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
  /** Histogram for the page: upper bound of each bucket (ms, last one Infinity serialised as null) and its count. */
  buckets: Array<{ upToMs: number | null; label: string; count: number }>;
}

export interface RetentionFigures {
  customersAtStart: number;
  customersAtEnd: number;
  newCustomers: number;
  /** Customers present at the start who churned during the period (new customers excluded). */
  lost: number;
  churnRate: Rate;
  retentionRate: Rate;
}

export interface PurchaseFigures {
  orders: number;
  revenue: number;
  customersWithPurchase: number;
  customersWithRepeatPurchase: number;
  repeatPurchaseRate: Rate;
}

export interface TierValue {
  tier: string;
  customers: number;
  averageOrderValue: number | null;
  purchasesPerCustomerPerYear: number | null;
  expectedLifespanYears: number | null;
  clv: number | null;
}

export interface ValueFigures {
  byTier: TierValue[];
  /** The top 20% of purchasing customers by spend in the period, and the share of revenue they bring. */
  coreCustomers: { customers: number; revenue: number; revenueShare: number | null };
}

export interface WinbackFigures {
  entered: number;
  wonBack: number;
  winbackRate: Rate;
  churnReasons: Array<{ reason: string; count: number }>;
}

export interface SatisfactionFigures {
  csat: Rate;
  /** NPS score in points, -100..100 (% promoters - % detractors), null without responses. */
  nps: { responses: number; promoters: number; passives: number; detractors: number; score: number | null };
}

export interface ComplaintFigures {
  opened: number;
  resolved: number;
  /** Complaints opened in the period and not resolved by its end: reported apart, never dropped. */
  open: number;
  escalations: number;
  firstResponse: Distribution;
  resolution: Distribution;
}

export interface VariantFunnel {
  variant: string;
  holdout: boolean;
  entered: number;
  sent: number;
  delivered: number;
  /** Messages that did not go out: 'failed' plus 'bounced' outcome rows. */
  failed: number;
  /** Of `failed`, the permanent refusals (bad address, opted out at the provider). */
  bounced?: number;
  skipped: number;
  skippedByReason: Array<{ reason: string; count: number }>;
  /**
   * Messages in doubt: the worker stopped after the provider was called and before the ledger write, and the
   * email could not be checked at the provider ('in_doubt' outcome rows: held, or resent with the same Message-ID).
   */
  inDoubt: number;
  conversions: number;
  conversionRate: Rate;
}

export interface Lift {
  /** False when either group is too small for the figures below to mean anything; they are then null. */
  enoughData: boolean;
  note: string | null;
  treatment: Rate;
  control: Rate;
  absoluteLift: number | null;
  relativeLift: number | null;
  incrementalConversions: number | null;
  /** 95% confidence interval of the absolute lift. */
  ci95: [number, number] | null;
  /** Two-sided p-value of the two-proportion z-test. */
  pValue: number | null;
  /** The z statistic (pooled standard error). */
  z?: number | null;
}

export interface CampaignFigures {
  campaignId: string;
  stage: string;
  variants: VariantFunnel[];
  lift: Lift;
}

/** One bucket of the over-time series behind the page's trend charts. */
export interface TrendPoint {
  periodStart: string;
  churnRate: number | null;
  retentionRate: number | null;
  csat: number | null;
  /** NPS points, -100..100. */
  nps: number | null;
}

export interface Report {
  query: { from: string; to: string; stage?: string; campaignId?: string; variant?: string; tier?: string };
  generatedAt: string;
  retention: RetentionFigures;
  purchases: PurchaseFigures;
  value: ValueFigures;
  winback: WinbackFigures;
  satisfaction: SatisfactionFigures;
  complaints: ComplaintFigures;
  campaigns: CampaignFigures[];
  trend: { interval: 'day' | 'week' | 'month'; points: TrendPoint[] };
  /** Caveats about the data behind the figures (e.g. a metric nothing records yet). */
  notes?: string[];
}
