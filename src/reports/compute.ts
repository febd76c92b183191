import type { Store } from '../store';
import { campaignFigures } from './campaigns';
import { purchaseAndValueFigures } from './purchases';
import { retentionFigures } from './retention';
import { scanOutcomes } from './scan';
import { complaintFigures, satisfactionFigures } from './satisfaction';
import { trendBoundaries, trendInterval, trendPoints } from './trend';
import type { Report, ReportQuery } from './types';
import { winbackFigures } from './winback';

/** Time spent on each part of the report, for the benchmark. */
export type ReportTimings = Record<string, number>;

/**
 * The retention report for `query`, computed by SQL aggregation in the store (no outcome rows are loaded):
 * each part's definitions are on its function (retention.ts, purchases.ts, winback.ts, satisfaction.ts,
 * campaigns.ts, trend.ts). `timings`, when given, receives milliseconds per part.
 */
export async function computeReport(store: Pick<Store, 'kysely'>, query: ReportQuery, timings?: ReportTimings): Promise<Report> {
  const db = store.kysely;
  const timed = async <T>(part: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      if (timings) timings[part] = Math.round(performance.now() - started);
    }
  };
  const interval = trendInterval(query);
  const boundaries = trendBoundaries(query, interval);
  const cells = await timed('scan', () => scanOutcomes(db, query));
  const retention = await timed('retention', () => retentionFigures(db, query, boundaries));
  const { purchases, value } = await timed('purchases', () => purchaseAndValueFigures(db, query, retention.byTier));
  const winback = await timed('winback', () => winbackFigures(db, query, cells));
  const satisfaction = satisfactionFigures(cells);
  const complaints = await timed('complaints', () => complaintFigures(db, query, cells));
  const campaigns = campaignFigures(cells);
  const points = await timed('trend', () => trendPoints(db, query, boundaries, retention.buckets));

  const notes: string[] = [];
  if (satisfaction.nps.responses === 0) notes.push('NPS: no answers in the period (survey tools post them to POST /customers/:id/nps).');
  if (campaigns.some((c) => c.variants.some((v) => v.sent > 0)) && campaigns.every((c) => c.variants.every((v) => v.delivered === 0))) {
    notes.push('delivered: no delivery receipts in the period (Twilio status callbacks record them for SMS; email has none).');
  }
  return {
    query: {
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      ...(query.stage !== undefined && { stage: query.stage }),
      ...(query.campaignId !== undefined && { campaignId: query.campaignId }),
      ...(query.variant !== undefined && { variant: query.variant }),
      ...(query.tier !== undefined && { tier: query.tier }),
    },
    generatedAt: new Date().toISOString(),
    retention: retention.total,
    purchases,
    value,
    winback,
    satisfaction,
    complaints,
    campaigns,
    trend: { interval, points },
    notes,
  };
}
