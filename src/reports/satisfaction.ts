import { sql } from 'kysely';
import { total, type OutcomeCell } from './scan';
import { and, inPeriod, num, outcomeFilters, rate, rows, statusIs, type Condition, type Db } from './sql';
import type { ComplaintFigures, Distribution, ReportQuery, SatisfactionFigures } from './types';

/**
 * CSAT = `csat` outcomes rated 4 or 5 / all `csat` outcomes with a rating (1-5), in the period.
 * NPS = % promoters (9-10) - % detractors (0-6) of `nps` outcomes (0-10), in points (-100..100).
 */
export function satisfactionFigures(cells: OutcomeCell[]): SatisfactionFigures {
  const responses = total(cells, ['nps'], (c) => c.valued);
  const promoters = total(cells, ['nps'], (c) => c.atLeast9);
  const detractors = total(cells, ['nps'], (c) => c.atMost6);
  return {
    csat: rate(total(cells, ['csat'], (c) => c.atLeast4), total(cells, ['csat'], (c) => c.valued)),
    nps: { responses, promoters, detractors, passives: responses - promoters - detractors, score: npsScore(promoters, detractors, responses) },
  };
}

export function npsScore(promoters: number, detractors: number, responses: number): number | null {
  return responses === 0 ? null : ((promoters - detractors) / responses) * 100;
}

/** Histogram bounds for complaint durations. */
export const DURATION_BUCKETS: Array<{ upToMs: number | null; label: string }> = [
  { upToMs: 3_600_000, label: '<= 1h' },
  { upToMs: 4 * 3_600_000, label: '<= 4h' },
  { upToMs: 24 * 3_600_000, label: '<= 1d' },
  { upToMs: 3 * 86_400_000, label: '<= 3d' },
  { upToMs: 7 * 86_400_000, label: '<= 7d' },
  { upToMs: null, label: '> 7d' },
];

/**
 * Complaints (complaint stage), period [from, to):
 * - opened = complaint journeys whose `entered` outcome falls in the period;
 * - resolved = of those, the ones with a `resolved` outcome (same workflow) before `to`; open = opened - resolved,
 *   reported apart so unresolved complaints are never silently dropped from the durations;
 * - escalations = `escalated` outcomes in the period (one per lapsed SLA);
 * - first response / resolution = the durations (value, ms from opening) of `first_response` / `resolved` outcomes
 *   recorded in the period: median and p90 by nearest rank (the value at rank ceil(p x n) in ascending order).
 */
export async function complaintFigures(db: Db, q: ReportQuery, cells: OutcomeCell[]): Promise<ComplaintFigures> {
  const filters = outcomeFilters(q, 'o');
  const [row] = await rows(
    db,
    sql<{ opened: number; resolved: number }>`
      select count(*) as opened,
        sum(case when exists (select 1 from outcomes r where r.workflow_id = o.workflow_id and r.status = 'resolved'
          and r.occurred_at >= o.occurred_at and r.occurred_at < ${q.to.getTime()}) then 1 else 0 end) as resolved
      from outcomes o
      where ${and([sql`o.stage = 'complaint'`, statusIs('o', 'entered'), inPeriod(q, 'o'), ...filters])}`,
  );
  const opened = num(row?.opened);
  const resolved = num(row?.resolved);
  return {
    opened,
    resolved,
    open: opened - resolved,
    escalations: total(cells, ['escalated']),
    firstResponse: await distribution(db, and([statusIs('o', 'first_response'), sql`o.value is not null`, inPeriod(q, 'o'), ...filters])),
    resolution: await distribution(db, and([statusIs('o', 'resolved'), sql`o.value is not null`, inPeriod(q, 'o'), ...filters])),
  };
}

/** Count, nearest-rank median and p90, and histogram of `value` over the outcome rows `where` selects (alias o). */
export async function distribution(db: Db, where: Condition): Promise<Distribution> {
  const counts = DURATION_BUCKETS.map((b, i) =>
    b.upToMs === null
      ? sql`sum(case when o.value > ${sql.lit(DURATION_BUCKETS[i - 1]?.upToMs ?? 0)} then 1 else 0 end) as b${sql.lit(i)}`
      : sql`sum(case when o.value <= ${sql.lit(b.upToMs)} and o.value > ${sql.lit(DURATION_BUCKETS[i - 1]?.upToMs ?? -1)} then 1 else 0 end) as b${sql.lit(i)}`,
  );
  const [row] = await rows(db, sql<Record<string, number>>`select count(*) as n, ${sql.join(counts)} from outcomes o where ${where}`);
  const count = num(row?.n);
  const buckets = DURATION_BUCKETS.map((b, i) => ({ ...b, count: num(row?.[`b${i}`]) }));
  const atRank = async (p: number): Promise<number | null> => {
    if (count === 0) return null;
    const offset = Math.ceil(p * count) - 1;
    const [r] = await rows(db, sql<{ value: number }>`select o.value as value from outcomes o where ${where} order by o.value limit 1 offset ${sql.lit(offset)}`);
    return r === undefined ? null : num(r.value);
  };
  return { count, medianMs: await atRank(0.5), p90Ms: await atRank(0.9), buckets };
}
