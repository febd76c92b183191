import { sql } from 'kysely';
import type { OutcomeCell } from './scan';
import { and, inPeriod, num, outcomeFilters, rate, rows, sameRun, statusIs, type Db } from './sql';
import type { ReportQuery, WinbackFigures } from './types';

/**
 * Win-back rate = lapsed customers who bought within the campaign's window after entering win-back / lapsed
 * customers who entered: entries = win-back `entered` outcomes in the period; won back = those whose run has a
 * `won_back` outcome (the workflow writes it only for a purchase inside its window), whenever it happened.
 * Churn reasons = `churned` outcomes in the period by reason (the survey answer, 'no-answer' without one).
 */
export async function winbackFigures(db: Db, q: ReportQuery, cells: OutcomeCell[]): Promise<WinbackFigures> {
  const filters = outcomeFilters(q, 'e');
  const [row] = await rows(
    db,
    sql<{ entered: number; won: number }>`
      select count(*) as entered,
        sum(case when exists (select 1 from outcomes w where w.workflow_id = e.workflow_id and w.status = 'won_back'
          and w.occurred_at >= e.occurred_at and ${sameRun('e', 'w')}) then 1 else 0 end) as won
      from outcomes e
      where ${and([sql`e.stage = 'winback'`, statusIs('e', 'entered'), inPeriod(q, 'e'), ...filters])}`,
  );
  const reasons = new Map<string, number>();
  for (const cell of cells) {
    if (cell.status !== 'churned') continue;
    const reason = cell.reason ?? 'unknown';
    reasons.set(reason, (reasons.get(reason) ?? 0) + cell.count);
  }
  const entered = num(row?.entered);
  const wonBack = num(row?.won);
  return {
    entered,
    wonBack,
    winbackRate: rate(wonBack, entered),
    churnReasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
  };
}
