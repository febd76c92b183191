import type { CampaignFigures, Distribution, Report, VariantFunnel } from '../types';
import { REPORT_STAGES } from '../types';
import { campaignChartIds, reportCharts, type ChartSpec } from './charts';
import { REPORT_PAGE_SCRIPT } from './client-script';
import { day, decimal, duration, money, npsText, percent, points, rateText } from './format';
import { html, jsonForScript, SafeHtml } from './html';
import { REPORT_PAGE_STYLE } from './style';

/** The inline script and style are our own constants, never data: the only text not escaped. */
const SCRIPT = new SafeHtml(REPORT_PAGE_SCRIPT);
const STYLE = new SafeHtml(REPORT_PAGE_STYLE);

export interface ReportPageOptions {
  /** Nonce allowing the page's inline script and style under its Content-Security-Policy. */
  nonce: string;
  /** Where the page loads Chart.js's UMD build from. */
  chartJsSrc: string;
  /** Path of the JSON endpoint serving the same report. */
  dataPath: string;
}

export function reportTitle(report: Report): string {
  return `Retention report ${day(report.query.from)} – ${day(report.query.to)}`;
}

/**
 * The report page: every headline figure as text, the charts as canvases drawn by a small inline script from
 * the chart data embedded as JSON. Every value from the report is escaped (see html.ts).
 */
export function renderReportPage(report: Report, options: ReportPageOptions): string {
  const charts = reportCharts(report);
  const allCharts: ChartSpec[] = [...charts.funnels, ...(charts.lift ? [charts.lift] : []), charts.retention, charts.satisfaction, charts.durations];
  const title = reportTitle(report);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style nonce="${options.nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <p class="meta">Period ${report.query.from} to ${report.query.to} (end exclusive), generated ${report.generatedAt}${filterSummary(report)}.
    <a href="${dataHref(report, options)}">JSON</a></p>
  ${filterForm(report)}
</header>
<main>
  <div class="grid figures">
    ${retentionCard(report)}
    ${purchasesCard(report)}
    ${winbackCard(report)}
    ${satisfactionCard(report)}
    ${complaintsCard(report)}
    ${valueCard(report)}
  </div>
  <div class="grid charts">
    ${chartCard(charts.retention)}
    ${chartCard(charts.satisfaction)}
    ${chartCard(charts.durations, html`<p class="detail">Buckets by duration from the complaint's opening; open complaints are not in the resolution bars.</p>`)}
    ${liftCard(report, charts.lift)}
  </div>
  <h2>Campaigns</h2>
  ${report.campaigns.length === 0 ? html`<p class="empty">No campaign had entries in this period.</p>` : ''}
  <div class="grid campaigns">${campaignCards(report.campaigns)}</div>
  ${notes(report)}
</main>
<script type="application/json" id="report-charts">${jsonForScript(allCharts)}</script>
<script src="${options.chartJsSrc}"></script>
<script nonce="${options.nonce}">${SCRIPT}</script>
</body>
</html>
`;
  return page.value;
}

/** The report's filters as query parameters; never a token (the browser's report session cookie authorizes the page). */
function queryParams(report: Report): URLSearchParams {
  const q = report.query;
  const params = new URLSearchParams({ from: q.from, to: q.to });
  if (q.stage) params.set('stage', q.stage);
  if (q.campaignId) params.set('campaign', q.campaignId);
  if (q.variant) params.set('variant', q.variant);
  if (q.tier) params.set('tier', q.tier);
  return params;
}

function dataHref(report: Report, options: ReportPageOptions): string {
  return `${options.dataPath}?${queryParams(report).toString()}`;
}

function filterSummary(report: Report): string {
  const q = report.query;
  const parts = [q.stage && `stage ${q.stage}`, q.campaignId && `campaign ${q.campaignId}`, q.variant && `variant ${q.variant}`, q.tier && `tier ${q.tier}`].filter(Boolean);
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
}

function filterForm(report: Report): SafeHtml {
  const q = report.query;
  return html`<form class="filters" method="get" action="">
    <label>From <input type="date" name="from" value="${day(q.from)}" required></label>
    <label>To (exclusive) <input type="date" name="to" value="${day(q.to)}" required></label>
    <label>Stage <select name="stage"><option value="">all</option>${REPORT_STAGES.map(
      (s) => html`<option value="${s}"${s === q.stage ? html` selected` : ''}>${s}</option>`,
    )}</select></label>
    <label>Campaign <input name="campaign" value="${q.campaignId ?? ''}" placeholder="all"></label>
    <label>Variant <input name="variant" value="${q.variant ?? ''}" placeholder="all"></label>
    <label>Tier <input name="tier" value="${q.tier ?? ''}" placeholder="all"></label>
    <button type="submit">Apply</button>
  </form>`;
}

function figure(label: string, value: string, testId: string, detail?: string): SafeHtml {
  return html`<div class="figure"><dt>${label}</dt><dd class="value" data-testid="${testId}">${value}</dd>${
    detail ? html`<dd class="detail">${detail}</dd>` : ''
  }</div>`;
}

function card(heading: string, body: SafeHtml, wide = false): SafeHtml {
  return html`<section class="${wide ? 'card wide' : 'card'}"><h2>${heading}</h2>${body}</section>`;
}

function retentionCard(report: Report): SafeHtml {
  const r = report.retention;
  return card(
    'Retention',
    html`<dl>
      ${figure('Churn rate', percent(r.churnRate.rate), 'churn-rate', `${r.lost} of ${r.customersAtStart} customers at start lost`)}
      ${figure('Retention rate', percent(r.retentionRate.rate), 'retention-rate', `${r.customersAtEnd} at end, ${r.newCustomers} new`)}
    </dl>`,
  );
}

function purchasesCard(report: Report): SafeHtml {
  const p = report.purchases;
  return card(
    'Purchases',
    html`<dl>
      ${figure('Repeat purchase rate', percent(p.repeatPurchaseRate.rate), 'repeat-purchase-rate', `${p.customersWithRepeatPurchase} of ${p.customersWithPurchase} buyers bought again`)}
      ${figure('Revenue', money(p.revenue), 'revenue', `${p.orders} orders`)}
    </dl>`,
  );
}

function winbackCard(report: Report): SafeHtml {
  const w = report.winback;
  return card(
    'Win-back',
    html`<dl>${figure('Win-back rate', percent(w.winbackRate.rate), 'winback-rate', `${w.wonBack} of ${w.entered} lapsed customers won back`)}</dl>
    <h3>Churn reasons</h3>
    ${
      w.churnReasons.length === 0
        ? html`<p class="empty" data-testid="churn-reasons">no churned customers</p>`
        : html`<ul class="reasons" data-testid="churn-reasons">${w.churnReasons.map((r) => html`<li><span>${r.reason}</span><span>${r.count}</span></li>`)}</ul>`
    }`,
  );
}

function satisfactionCard(report: Report): SafeHtml {
  const { csat, nps } = report.satisfaction;
  return card(
    'Satisfaction',
    html`<dl>
      ${figure('CSAT', percent(csat.rate), 'csat', `${csat.numerator} of ${csat.denominator} ratings were 4 or 5`)}
      ${figure('NPS', npsText(nps.score), 'nps', `${nps.promoters} promoters, ${nps.passives} passives, ${nps.detractors} detractors`)}
    </dl>`,
  );
}

function distributionFigures(label: string, d: Distribution, testId: string): SafeHtml {
  return html`${figure(`${label} median`, duration(d.medianMs), `${testId}-median`, `${d.count} measured`)}${figure(`${label} p90`, duration(d.p90Ms), `${testId}-p90`)}`;
}

function complaintsCard(report: Report): SafeHtml {
  const c = report.complaints;
  return card(
    'Complaints',
    html`<dl>
      ${figure('Opened', String(c.opened), 'complaints-opened', `${c.resolved} resolved`)}
      ${figure('Open', String(c.open), 'complaints-open', 'opened in the period, not resolved by its end')}
      ${figure('Escalations', String(c.escalations), 'complaints-escalations')}
      ${distributionFigures('First response', c.firstResponse, 'first-response')}
      ${distributionFigures('Resolution', c.resolution, 'resolution')}
    </dl>`,
    true,
  );
}

function valueCard(report: Report): SafeHtml {
  const { byTier, coreCustomers } = report.value;
  return card(
    'Customer value',
    html`<div class="scroll"><table data-testid="clv-table">
      <thead><tr><th>Tier</th><th>Buyers</th><th>Avg order</th><th>Orders / customer / year</th><th>Lifespan (years)</th><th>CLV</th></tr></thead>
      <tbody>${byTier.map(
        (t) => html`<tr data-tier="${t.tier}"><th scope="row">${t.tier}</th><td>${t.customers}</td><td>${money(t.averageOrderValue)}</td><td>${decimal(
          t.purchasesPerCustomerPerYear,
        )}</td><td>${decimal(t.expectedLifespanYears)}</td><td data-testid="clv-${t.tier}">${money(t.clv)}</td></tr>`,
      )}</tbody>
    </table></div>
    <dl>${figure(
      'Core customers’ revenue share',
      percent(coreCustomers.revenueShare),
      'core-revenue-share',
      `top ${coreCustomers.customers} ${coreCustomers.customers === 1 ? 'buyer' : 'buyers'} by spend brought ${money(coreCustomers.revenue)}`,
    )}</dl>`,
    true,
  );
}

function chartCard(chart: ChartSpec, after?: SafeHtml): SafeHtml {
  return card(chart.title, html`<div class="chart"><canvas id="${chart.id}" data-testid="${chart.id}" role="img" aria-label="${chart.title}"></canvas></div>${after ?? ''}`);
}

function liftCard(report: Report, chart: ChartSpec | undefined): SafeHtml {
  if (chart) return chartCard(chart, html`<p class="detail">Bars: 95% confidence interval of the absolute lift; diamonds: the estimate. Campaigns without enough data are listed below with the reason.</p>`);
  return card('Lift over holdout', html`<p class="empty" data-testid="lift-none">not enough data: no campaign has large enough treatment and holdout groups in this period.</p>`);
}

function liftText(c: CampaignFigures): SafeHtml {
  const l = c.lift;
  const rates = `treatment ${rateText(l.treatment)} vs holdout ${rateText(l.control)}`;
  if (!l.enoughData) {
    return html`<p class="lift insufficient"><strong>Lift: not enough data.</strong> ${(l.note ?? '').replace(/^not enough data:\s*/, '')} (${rates})</p>`;
  }
  const [low, high] = l.ci95 ?? [null, null];
  return html`<p class="lift"><strong>Lift ${points(l.absoluteLift)}</strong> (95% CI ${points(low)} to ${points(high)}, p = ${
    l.pValue === null ? 'n/a' : l.pValue < 0.001 ? '< 0.001' : l.pValue.toFixed(3)
  }), relative ${percent(l.relativeLift)}, ${decimal(l.incrementalConversions)} incremental conversions; ${rates}</p>`;
}

function funnelRow(v: VariantFunnel): SafeHtml {
  return html`<tr><th scope="row">${v.variant}${v.holdout ? ' (holdout)' : ''}</th><td>${v.entered}</td><td>${v.sent}</td><td>${v.delivered}</td><td>${v.failed}</td><td>${v.skipped}</td><td>${v.inDoubt}</td><td>${v.conversions}</td><td>${percent(v.conversionRate.rate)}</td></tr>`;
}

function campaignCards(campaigns: CampaignFigures[]): SafeHtml[] {
  const ids = campaignChartIds(campaigns);
  return campaigns.map((c, i) => {
    const id = ids[i] as string;
    return html`<section class="card campaign" data-campaign="${c.campaignId}">
      <h3>${c.campaignId} <span class="stage">${c.stage}</span></h3>
      <div class="chart small"><canvas id="${id}" data-testid="${id}" role="img" aria-label="${c.campaignId} funnel"></canvas></div>
      <div class="scroll"><table><thead><tr><th>Variant</th><th>Entered</th><th>Sent</th><th>Delivered</th><th>Failed</th><th>Skipped</th><th title="sent to the provider when the worker stopped: held or resent with the same Message-ID">In doubt</th><th>Conversions</th><th>Rate</th></tr></thead>
      <tbody>${c.variants.map(funnelRow)}</tbody></table></div>
      <div data-testid="lift-${id.replace(/^funnel-/, '')}">${liftText(c)}</div>
    </section>`;
  });
}

function notes(report: Report): SafeHtml | string {
  if (!report.notes || report.notes.length === 0) return '';
  return html`<section class="notes"><h2>Notes</h2><ul>${report.notes.map((n) => html`<li>${n}</li>`)}</ul></section>`;
}
