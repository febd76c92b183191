import { sql } from 'kysely';
import { npsScore } from './satisfaction';
import { and, bucketIndex, num, outcomeFilters, inPeriod, rows, statusIs, type Db } from './sql';
import type { ReportQuery, RetentionFigures, TrendPoint } from './types';

const DAY_MS = 86_400_000;
export type TrendInterval = 'day' | 'week' | 'month';

/** Days for periods up to 31 days, weeks up to 26 weeks, calendar months (UTC) beyond. */
export function trendInterval(q: ReportQuery): TrendInterval {
  const days = (q.to.getTime() - q.from.getTime()) / DAY_MS;
  if (days <= 31) return 'day';
  if (days <= 26 * 7) return 'week';
  return 'month';
}

/** Bucket boundaries from `from` to `to` (both included); the last bucket may be shorter. */
export function trendBoundaries(q: ReportQuery, interval: TrendInterval): number[] {
  const from = q.from.getTime();
  const to = q.to.getTime();
  const boundaries = [from];
  let next = new Date(from);
  for (;;) {
    if (interval === 'month') next = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1));
    else next = new Date(next.getTime() + (interval === 'day' ? DAY_MS : 7 * DAY_MS));
    if (next.getTime() >= to) break;
    boundaries.push(next.getTime());
  }
  boundaries.push(to);
  return boundaries;
}

/** Per bucket: churn and retention rates (from retention.ts) and CSAT / NPS of the ratings recorded in it. */
export async function trendPoints(db: Db, q: ReportQuery, boundaries: number[], retention: RetentionFigures[]): Promise<TrendPoint[]> {
  const ratings = await rows(
    db,
    sql<{ bucket: number; csat_all: number; csat_good: number; nps_all: number; promoters: number; detractors: number }>`
      select ${bucketIndex(sql.ref('o.occurred_at'), boundaries)} as bucket,
        sum(case when o.status = 'csat' then 1 else 0 end) as csat_all,
        sum(case when o.status = 'csat' and o.value >= 4 then 1 else 0 end) as csat_good,
        sum(case when o.status = 'nps' then 1 else 0 end) as nps_all,
        sum(case when o.status = 'nps' and o.value >= 9 then 1 else 0 end) as promoters,
        sum(case when o.status = 'nps' and o.value <= 6 then 1 else 0 end) as detractors
      from outcomes o
      where ${and([statusIs('o', 'csat', 'nps'), sql`o.value is not null`, inPeriod(q, 'o'), ...outcomeFilters(q, 'o')])}
      group by 1`,
  );
  const byBucket = new Map(ratings.map((r) => [num(r.bucket), r]));
  return retention.map((figures, i) => {
    const r = byBucket.get(i);
    const csatAll = num(r?.csat_all);
    return {
      periodStart: new Date(boundaries[i] as number).toISOString(),
      churnRate: figures.churnRate.rate,
      retentionRate: figures.retentionRate.rate,
      csat: csatAll === 0 ? null : num(r?.csat_good) / csatAll,
      nps: npsScore(num(r?.promoters), num(r?.detractors), num(r?.nps_all)),
    };
  });
}
