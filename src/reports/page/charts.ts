import type { CampaignFigures, Report } from '../types';
import { day } from './format';

/** How a chart axis writes its numbers (the page script turns each name into a tick and tooltip formatter). */
export type ValueFormat = 'count' | 'percent' | 'pp' | 'nps';

/**
 * One chart of the report page: a Chart.js configuration that is plain JSON (it is embedded in the page as data),
 * plus the number format of each value axis, which the page script applies since functions cannot be JSON.
 * `id` is the canvas's id and data-testid.
 */
export interface ChartSpec {
  id: string;
  title: string;
  config: {
    type: 'bar' | 'line';
    data: { labels: string[]; datasets: Array<Record<string, unknown>> };
    options: Record<string, unknown>;
  };
  formats: Record<string, ValueFormat>;
}

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#dc2626'];
const HOLDOUT_COLOUR = '#9ca3af';

/** A canvas id for each campaign: its id reduced to [a-z0-9-], made unique. */
export function campaignChartIds(campaigns: CampaignFigures[]): string[] {
  const seen = new Set<string>();
  return campaigns.map((c) => {
    const base = `funnel-${c.campaignId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'campaign'}`;
    let id = base;
    for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
    seen.add(id);
    return id;
  });
}

export const FUNNEL_STEPS = ['entered', 'sent', 'delivered', 'conversions'] as const;

function funnelChart(campaign: CampaignFigures, id: string): ChartSpec {
  let colour = 0;
  return {
    id,
    title: `${campaign.campaignId} (${campaign.stage}): funnel per variant`,
    config: {
      type: 'bar',
      data: {
        labels: [...FUNNEL_STEPS],
        datasets: campaign.variants.map((v) => ({
          label: v.holdout ? `${v.variant} (holdout)` : v.variant,
          data: FUNNEL_STEPS.map((step) => v[step]),
          backgroundColor: v.holdout ? HOLDOUT_COLOUR : PALETTE[colour++ % PALETTE.length],
        })),
      },
      options: { scales: { y: { beginAtZero: true } } },
    },
    formats: { y: 'count' },
  };
}

/** Absolute lift of every campaign with enough data: the 95% interval as a floating bar, the estimate as a point. */
function liftChart(campaigns: CampaignFigures[]): ChartSpec | undefined {
  const measured = campaigns.filter((c) => c.lift.enoughData && c.lift.ci95 !== null && c.lift.absoluteLift !== null);
  if (measured.length === 0) return undefined;
  return {
    id: 'lift',
    title: 'Lift over holdout (absolute, 95% interval)',
    config: {
      type: 'bar',
      data: {
        labels: measured.map((c) => c.campaignId),
        datasets: [
          { type: 'bar', label: '95% interval', data: measured.map((c) => c.lift.ci95), backgroundColor: 'rgba(37, 99, 235, 0.35)', borderColor: PALETTE[0], borderWidth: 1, barPercentage: 0.4 },
          { type: 'line', label: 'lift', data: measured.map((c) => c.lift.absoluteLift), showLine: false, pointRadius: 6, pointStyle: 'rectRot', backgroundColor: '#111827', borderColor: '#111827' },
        ],
      },
      options: { indexAxis: 'x', scales: { y: { grace: '10%' } } },
    },
    formats: { y: 'pp' },
  };
}

function retentionTrend(report: Report): ChartSpec {
  const points = report.trend.points;
  return {
    id: 'retention-trend',
    title: `Retention and churn per ${report.trend.interval}`,
    config: {
      type: 'line',
      data: {
        labels: points.map((p) => day(p.periodStart)),
        datasets: [
          { label: 'retention rate', data: points.map((p) => p.retentionRate), borderColor: PALETTE[1], backgroundColor: PALETTE[1] },
          { label: 'churn rate', data: points.map((p) => p.churnRate), borderColor: PALETTE[5], backgroundColor: PALETTE[5] },
        ],
      },
      options: { scales: { y: { min: 0, max: 1 } } },
    },
    formats: { y: 'percent' },
  };
}

function satisfactionTrend(report: Report): ChartSpec {
  const points = report.trend.points;
  return {
    id: 'satisfaction-trend',
    title: `CSAT and NPS per ${report.trend.interval}`,
    config: {
      type: 'line',
      data: {
        labels: points.map((p) => day(p.periodStart)),
        datasets: [
          { label: 'CSAT', data: points.map((p) => p.csat), yAxisID: 'y', borderColor: PALETTE[0], backgroundColor: PALETTE[0] },
          { label: 'NPS', data: points.map((p) => p.nps), yAxisID: 'y1', borderColor: PALETTE[3], backgroundColor: PALETTE[3] },
        ],
      },
      options: {
        scales: {
          y: { min: 0, max: 1, position: 'left', title: { display: true, text: 'CSAT' } },
          y1: { min: -100, max: 100, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'NPS' } },
        },
      },
    },
    formats: { y: 'percent', y1: 'nps' },
  };
}

function complaintDurations(report: Report): ChartSpec {
  const { firstResponse, resolution } = report.complaints;
  return {
    id: 'complaint-durations',
    title: 'Complaints: time to first response and to resolution',
    config: {
      type: 'bar',
      data: {
        labels: resolution.buckets.map((b) => b.label),
        datasets: [
          { label: 'first response', data: firstResponse.buckets.map((b) => b.count), backgroundColor: PALETTE[4] },
          { label: 'resolution', data: resolution.buckets.map((b) => b.count), backgroundColor: PALETTE[2] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    },
    formats: { y: 'count' },
  };
}

/** Every chart the page draws for `report`, keyed by canvas id (the lift chart only when some lift was measured). */
export function reportCharts(report: Report): { funnels: ChartSpec[]; lift?: ChartSpec; retention: ChartSpec; satisfaction: ChartSpec; durations: ChartSpec } {
  const ids = campaignChartIds(report.campaigns);
  const lift = liftChart(report.campaigns);
  return {
    funnels: report.campaigns.map((c, i) => funnelChart(c, ids[i] as string)),
    ...(lift && { lift }),
    retention: retentionTrend(report),
    satisfaction: satisfactionTrend(report),
    durations: complaintDurations(report),
  };
}
