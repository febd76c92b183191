import { sql } from 'kysely';
import { and, bucketIndex, num, rate, rows, type Condition, type Db } from './sql';
import type { ReportQuery, RetentionFigures } from './types';

/**
 * Customer counts behind churn and retention, definitions (period [from, to)):
 * - a customer exists from `customers.created_at`; a customer is lost at their first `churned` outcome (written by
 *   win-back when the last chance passed without a purchase). A later return is not modelled: churn is final here.
 * - customers at start = created before `from` and not churned before `from`;
 * - new customers = created in [from, to);
 * - lost = customers at start whose first churn falls in [from, to) (new customers who churn are not counted);
 * - customers at end = created before `to` and not churned before `to`;
 * - churn rate = lost / customers at start; retention rate = (customers at end - new customers) / customers at start.
 * Filters: `tier` is the customer's current tier; stage/campaign/variant narrow the population to customers with an
 * `entered` outcome matching them before `to` (the campaign's cohort).
 *
 * One aggregate query groups customers by (tier, bucket of creation, bucket of churn) over the trend's boundaries;
 * the period's figures, each bucket's and each tier's are sums over that small grid.
 */
export interface RetentionResult {
  total: RetentionFigures;
  byTier: Map<string, RetentionFigures>;
  /** One per trend bucket [boundaries[i], boundaries[i + 1]). */
  buckets: RetentionFigures[];
}

interface Cell {
  tier: string;
  /** Bucket of created_at: -1 before from, K at or after to. */
  cb: number;
  /** Bucket of first churn; K + 1 when never churned. */
  kb: number;
  n: number;
}

export async function retentionFigures(db: Db, q: ReportQuery, boundaries: number[]): Promise<RetentionResult> {
  const conditions: Condition[] = [sql`c.created_at < ${q.to.getTime()}`];
  if (q.tier !== undefined) conditions.push(sql`c.tier = ${q.tier}`);
  const cohort: Condition[] = [];
  if (q.stage !== undefined) cohort.push(sql`p.stage = ${q.stage}`);
  if (q.campaignId !== undefined) cohort.push(sql`p.campaign_id = ${q.campaignId}`);
  if (q.variant !== undefined) cohort.push(sql`p.variant = ${q.variant}`);
  if (cohort.length > 0) {
    conditions.push(
      sql`c.id in (select p.customer_id from outcomes p where p.status = 'entered' and p.occurred_at < ${q.to.getTime()} and ${and(cohort)})`,
    );
  }
  const cells = await rows(
    db,
    sql<Cell>`select c.tier as tier, ${bucketIndex(sql.ref('c.created_at'), boundaries)} as cb,
        ${bucketIndex(sql.ref('k.churned_at'), boundaries)} as kb, count(*) as n
      from customers c
      left join (select customer_id, min(occurred_at) as churned_at from outcomes where status = 'churned' group by customer_id) k
        on k.customer_id = c.id
      where ${and(conditions)}
      group by 1, 2, 3`,
  );
  const grid = cells.map((c) => ({ tier: c.tier, cb: num(c.cb), kb: num(c.kb), n: num(c.n) }));
  const k = boundaries.length - 1;
  const tiers = new Map<string, RetentionFigures>();
  for (const tier of new Set(grid.map((c) => c.tier))) {
    tiers.set(tier, figuresBetween(grid.filter((c) => c.tier === tier), 0, k));
  }
  const buckets: RetentionFigures[] = [];
  for (let i = 0; i < k; i++) buckets.push(figuresBetween(grid, i, i + 1));
  return { total: figuresBetween(grid, 0, k), byTier: tiers, buckets };
}

/** Figures for the span of buckets [first, end): its start is boundary `first`, its end boundary `end`. */
function figuresBetween(grid: Omit<Cell, 'tier'>[], first: number, end: number): RetentionFigures {
  let createdBeforeStart = 0;
  let churnedBeforeStart = 0;
  let createdBeforeEnd = 0;
  let churnedBeforeEnd = 0;
  let lost = 0;
  for (const { cb, kb, n } of grid) {
    if (cb < first) createdBeforeStart += n;
    if (kb < first) churnedBeforeStart += n;
    if (cb < end) createdBeforeEnd += n;
    if (kb < end) churnedBeforeEnd += n;
    if (cb < first && kb >= first && kb < end) lost += n;
  }
  // A customer churns after being created, so "churned before t" customers are all among "created before t".
  const customersAtStart = createdBeforeStart - churnedBeforeStart;
  const customersAtEnd = createdBeforeEnd - churnedBeforeEnd;
  const newCustomers = createdBeforeEnd - createdBeforeStart;
  return {
    customersAtStart,
    customersAtEnd,
    newCustomers,
    lost,
    churnRate: rate(lost, customersAtStart),
    retentionRate: rate(customersAtEnd - newCustomers, customersAtStart),
  };
}
