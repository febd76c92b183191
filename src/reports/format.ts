import type { Distribution, Rate, Report } from './types';

/** Renders a Report for people (aligned tables) or spreadsheets (CSV: section, subject, metric, value). */

const percent = (value: number | null, digits = 1) => (value === null ? 'n/a' : `${(value * 100).toFixed(digits)}%`);
const rateText = (r: Rate) => `${percent(r.rate)} (${r.numerator}/${r.denominator})`;
const number = (value: number | null, digits = 2) => (value === null ? 'n/a' : value.toFixed(digits));
const money = (value: number | null) => (value === null ? 'n/a' : value.toFixed(2));

function duration(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

function table(title: string, header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const distributionText = (d: Distribution) => `${d.count} (median ${duration(d.medianMs)}, p90 ${duration(d.p90Ms)})`;

export function formatTable(report: Report): string {
  const q = report.query;
  const filters = [q.stage && `stage ${q.stage}`, q.campaignId && `campaign ${q.campaignId}`, q.variant && `variant ${q.variant}`, q.tier && `tier ${q.tier}`]
    .filter(Boolean)
    .join(', ');
  const { retention: r, purchases: p, value: v, winback: w, satisfaction: s, complaints: c } = report;
  const sections = [
    `Retention report ${q.from} .. ${q.to}${filters ? ` (${filters})` : ''}`,
    table('Customers', ['metric', 'value'], [
      ['customers at start', String(r.customersAtStart)],
      ['new customers', String(r.newCustomers)],
      ['lost (churned)', String(r.lost)],
      ['customers at end', String(r.customersAtEnd)],
      ['churn rate', rateText(r.churnRate)],
      ['retention rate', rateText(r.retentionRate)],
      ['orders', String(p.orders)],
      ['revenue', money(p.revenue)],
      ['repeat purchase rate', rateText(p.repeatPurchaseRate)],
      ['core customers (top 20%)', `${v.coreCustomers.customers} bring ${percent(v.coreCustomers.revenueShare)} of revenue`],
      ['win-back rate', rateText(w.winbackRate)],
      ['CSAT', rateText(s.csat)],
      ['NPS', s.nps.score === null ? 'n/a (no responses)' : `${s.nps.score.toFixed(1)} (${s.nps.responses} responses)`],
      ['complaints opened / resolved / open', `${c.opened} / ${c.resolved} / ${c.open}`],
      ['escalations', String(c.escalations)],
      ['first response', distributionText(c.firstResponse)],
      ['resolution', distributionText(c.resolution)],
    ]),
    table(
      'Customer lifetime value by tier',
      ['tier', 'buyers', 'avg order', 'orders/yr', 'lifespan yrs', 'CLV'],
      v.byTier.map((t) => [t.tier, String(t.customers), money(t.averageOrderValue), number(t.purchasesPerCustomerPerYear), number(t.expectedLifespanYears), money(t.clv)]),
    ),
  ];
  if (w.churnReasons.length > 0) sections.push(table('Churn reasons', ['reason', 'count'], w.churnReasons.map((x) => [x.reason, String(x.count)])));
  for (const campaign of report.campaigns) {
    const body = campaign.variants.map((x) => [
      x.holdout ? `${x.variant} (holdout)` : x.variant,
      String(x.entered),
      String(x.sent),
      String(x.delivered),
      String(x.failed),
      String(x.skipped),
      String(x.inDoubt),
      String(x.conversions),
      percent(x.conversionRate.rate),
    ]);
    const l = campaign.lift;
    const lift = l.enoughData
      ? `lift ${percent(l.absoluteLift, 2)} absolute, ${percent(l.relativeLift)} relative; 95% CI [${percent(l.ci95?.[0] ?? null, 2)}, ${percent(l.ci95?.[1] ?? null, 2)}]; ` +
        `p = ${l.pValue === null ? 'n/a' : l.pValue < 0.0001 ? '< 0.0001' : l.pValue.toFixed(4)}; incremental conversions ${number(l.incrementalConversions, 1)}`
      : `lift: ${l.note ?? 'not enough data'}`;
    const skipped = campaign.variants
      .filter((x) => x.skippedByReason.length > 0)
      .map((x) => `  skipped ${x.holdout ? `${x.variant} (holdout)` : x.variant}: ${x.skippedByReason.map((s) => `${s.reason} ${s.count}`).join(', ')}`);
    sections.push(
      [table(`Campaign ${campaign.campaignId} (${campaign.stage})`, ['variant', 'entered', 'sent', 'delivered', 'failed', 'skipped', 'in doubt', 'conversions', 'rate'], body), ...skipped, `  ${lift}`].join('\n'),
    );
  }
  for (const note of report.notes ?? []) sections.push(`note: ${note}`);
  return `${sections.join('\n\n')}\n`;
}

function csvField(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Long format: one figure per line, `section,subject,metric,value`, so any subset filters cleanly. */
export function formatCsv(report: Report): string {
  const out: (string | number | boolean | null)[][] = [['section', 'subject', 'metric', 'value']];
  const add = (section: string, subject: string, metric: string, value: string | number | boolean | null) => out.push([section, subject, metric, value]);
  const { retention: r, purchases: p, value: v, winback: w, satisfaction: s, complaints: c } = report;
  for (const [metric, value] of Object.entries({ customersAtStart: r.customersAtStart, customersAtEnd: r.customersAtEnd, newCustomers: r.newCustomers, lost: r.lost })) {
    add('retention', 'all', metric, value);
  }
  add('retention', 'all', 'churnRate', r.churnRate.rate);
  add('retention', 'all', 'retentionRate', r.retentionRate.rate);
  add('purchases', 'all', 'orders', p.orders);
  add('purchases', 'all', 'revenue', p.revenue);
  add('purchases', 'all', 'customersWithPurchase', p.customersWithPurchase);
  add('purchases', 'all', 'customersWithRepeatPurchase', p.customersWithRepeatPurchase);
  add('purchases', 'all', 'repeatPurchaseRate', p.repeatPurchaseRate.rate);
  for (const t of v.byTier) {
    for (const [metric, value] of Object.entries(t)) if (metric !== 'tier') add('value', t.tier, metric, value as number | null);
  }
  add('value', 'core', 'customers', v.coreCustomers.customers);
  add('value', 'core', 'revenue', v.coreCustomers.revenue);
  add('value', 'core', 'revenueShare', v.coreCustomers.revenueShare);
  add('winback', 'all', 'entered', w.entered);
  add('winback', 'all', 'wonBack', w.wonBack);
  add('winback', 'all', 'winbackRate', w.winbackRate.rate);
  for (const x of w.churnReasons) add('churn-reasons', x.reason, 'count', x.count);
  add('satisfaction', 'csat', 'responses', s.csat.denominator);
  add('satisfaction', 'csat', 'rate', s.csat.rate);
  add('satisfaction', 'nps', 'responses', s.nps.responses);
  add('satisfaction', 'nps', 'score', s.nps.score);
  for (const [metric, value] of Object.entries({ opened: c.opened, resolved: c.resolved, open: c.open, escalations: c.escalations })) add('complaints', 'all', metric, value);
  for (const [name, d] of [['firstResponse', c.firstResponse], ['resolution', c.resolution]] as const) {
    add('complaints', name, 'count', d.count);
    add('complaints', name, 'medianMs', d.medianMs);
    add('complaints', name, 'p90Ms', d.p90Ms);
  }
  for (const campaign of report.campaigns) {
    for (const x of campaign.variants) {
      const subject = `${campaign.campaignId}/${x.variant}${x.holdout ? '/holdout' : ''}`;
      for (const metric of ['entered', 'sent', 'delivered', 'failed', 'skipped', 'inDoubt', 'conversions'] as const) add('campaign', subject, metric, x[metric]);
      add('campaign', subject, 'conversionRate', x.conversionRate.rate);
      for (const reason of x.skippedByReason) add('campaign', subject, `skipped:${reason.reason}`, reason.count);
    }
    const l = campaign.lift;
    const subject = `${campaign.campaignId}/lift`;
    add('campaign', subject, 'enoughData', l.enoughData);
    add('campaign', subject, 'treatmentRate', l.treatment.rate);
    add('campaign', subject, 'controlRate', l.control.rate);
    add('campaign', subject, 'absoluteLift', l.absoluteLift);
    add('campaign', subject, 'relativeLift', l.relativeLift);
    add('campaign', subject, 'incrementalConversions', l.incrementalConversions);
    add('campaign', subject, 'ci95Low', l.ci95?.[0] ?? null);
    add('campaign', subject, 'ci95High', l.ci95?.[1] ?? null);
    add('campaign', subject, 'pValue', l.pValue);
    if (l.note) add('campaign', subject, 'note', l.note);
  }
  return `${out.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}
