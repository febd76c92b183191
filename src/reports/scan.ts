import { sql } from 'kysely';
import { and, num, outcomeFilters, rows, sameRun, statusIs, type Db } from './sql';
import type { ReportQuery } from './types';

/** Outcome counts and value sums of the period for one (campaign, stage, variant, holdout, status, reason). */
export interface OutcomeCell {
  campaignId: string;
  stage: string;
  variant: string;
  holdout: boolean;
  status: string;
  reason: string | null;
  count: number;
  /**
   * For `entered` cells: entries whose run (same workflow, before any re-entry) later records a conversion
   * outcome (CONVERSION_STATUSES), whenever that happened.
   */
  conversions: number;
  /** Rows with a value, and sums over those values. */
  valued: number;
  valueSum: number;
  /** Rows with value >= 4 (CSAT satisfied), >= 9 (NPS promoter), <= 6 (NPS detractor). */
  atLeast4: number;
  atLeast9: number;
  atMost6: number;
}

/**
 * One pass over the period's outcome rows, grouped in the column order of the `outcomes_report` index
 * (migration 0002) so SQLite streams the groups from that covering index instead of sorting a million rows.
 * `+occurred_at` keeps SQLite from preferring the occurred_at index (random row lookups, then a sort); in
 * PostgreSQL the unary plus is a no-op. Most figures of the report are sums over these few hundred cells.
 * Conversions are looked up per entry through outcomes_workflow_status.
 */
/** Outcomes that count as a conversion, whatever the stage: activation, a win-back purchase, a nurture purchase. */
export const CONVERSION_STATUSES = ['converted', 'won_back', 'purchase'] as const;

export async function scanOutcomes(db: Db, q: ReportQuery): Promise<OutcomeCell[]> {
  const period = sql`+o.occurred_at >= ${q.from.getTime()} and +o.occurred_at < ${q.to.getTime()}`;
  const converted = and([sql`c.workflow_id = o.workflow_id`, statusIs('c', ...CONVERSION_STATUSES), sql`c.occurred_at >= o.occurred_at`, sameRun('o', 'c')]);
  const result = await rows(
    db,
    sql<Record<string, unknown>>`
      select o.campaign_id, o.stage, o.variant, o.holdout, o.status, o.reason, count(*) as n,
        sum(case when o.status = 'entered' then (case when exists (select 1 from outcomes c where ${converted}) then 1 else 0 end) else 0 end) as conversions,
        count(o.value) as valued,
        sum(o.value) as value_sum, sum(case when o.value >= 4 then 1 else 0 end) as ge4,
        sum(case when o.value >= 9 then 1 else 0 end) as ge9, sum(case when o.value <= 6 then 1 else 0 end) as le6
      from outcomes o
      where ${and([period, ...outcomeFilters(q, 'o')])}
      group by o.campaign_id, o.stage, o.variant, o.holdout, o.status, o.reason`,
  );
  return result.map((r) => ({
    campaignId: String(r.campaign_id),
    stage: String(r.stage),
    variant: String(r.variant),
    holdout: num(r.holdout) === 1,
    status: String(r.status),
    reason: r.reason === null ? null : String(r.reason),
    count: num(r.n),
    conversions: num(r.conversions),
    valued: num(r.valued),
    valueSum: num(r.value_sum),
    atLeast4: num(r.ge4),
    atLeast9: num(r.ge9),
    atMost6: num(r.le6),
  }));
}

/** Sum of `pick` over the cells with one of `statuses`. */
export function total(cells: OutcomeCell[], statuses: string[], pick: (c: OutcomeCell) => number = (c) => c.count): number {
  return cells.reduce((sum, c) => (statuses.includes(c.status) ? sum + pick(c) : sum), 0);
}
