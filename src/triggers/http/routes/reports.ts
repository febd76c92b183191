import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { computeReport } from '../../../reports/compute';
import { loadChartJsAsset } from '../../../reports/page/chart-asset';
import { renderReportPage } from '../../../reports/page/report-page';
import { DEFAULT_PERIOD_MS, parseReportDate, periodProblem } from '../../../reports/query';
import { REPORT_STAGES, type ReportQuery } from '../../../reports/types';
import { InvalidInputError } from '../../errors';
import type { ApiDeps } from '../deps';
import { reportViewerAuth } from '../report-session';

const DATE_HINT = 'expected a date such as 2025-01-31 or 2025-01-31T12:00:00Z';
const CHART_JS_PATH = '/reports/assets/chart.umd.js';
const TOKEN_SWAPPED = z.null().meta({
  description: '`?token=` swapped for the report session cookie (Set-Cookie): on to the same URL without the token',
  headers: { location: { type: 'string', description: 'the same URL without `token`' } },
});

/** A date as the page's form and links send it: empty (the default), a day, or a date-time (UTC unless it has an offset). */
const reportDate = (what: string) =>
  z
    .union([z.literal(''), z.iso.date(), z.iso.datetime({ offset: true, local: true })], { message: DATE_HINT })
    .optional()
    .describe(`${what} (YYYY-MM-DD = UTC midnight, or an ISO 8601 date-time)`);

/** Optional text filter; the page's form sends empty fields for "all", which mean the same as leaving them out. */
const filterText = (what: string) => z.string().trim().max(200).optional().describe(`only ${what} (empty = all)`);

const ReportQuerystring = z.object({
  from: reportDate('start of the period, inclusive; default 90 days before `to`; at most 10 years before `to`'),
  to: reportDate('end of the period, exclusive; default now'),
  stage: z
    .union([z.literal(''), z.enum(REPORT_STAGES, { message: `expected one of ${REPORT_STAGES.join(', ')}` })])
    .optional()
    .describe('only this lifecycle stage'),
  campaign: filterText('this campaign id'),
  variant: filterText('this variant'),
  tier: filterText("customers of this (current) loyalty tier"),
  token: z
    .string()
    .optional()
    .describe(
      'for browsers (a link cannot send the Authorization header): an API token with reports:read, swapped at once for an 8-hour ' +
        'session cookie and a 303 to the same URL without it; elsewhere send the token as a bearer header',
    ),
});
type ReportQuerystring = z.infer<typeof ReportQuerystring>;

/** The querystring as a ReportQuery: empty values dropped, defaults applied, `from` before `to`. */
export function toReportQuery(qs: ReportQuerystring, now: Date): ReportQuery {
  const text = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());
  const date = (value: string | undefined) => {
    const given = text(value);
    return given === undefined ? undefined : (parseReportDate(given) as Date);
  };
  const to = date(qs.to) ?? now;
  const from = date(qs.from) ?? new Date(to.getTime() - DEFAULT_PERIOD_MS);
  const problem = periodProblem(from, to);
  if (problem) throw new InvalidInputError('report period', [{ path: 'querystring.from', message: problem }]);
  const query: ReportQuery = { from, to };
  const stage = text(qs.stage);
  if (stage !== undefined) query.stage = stage as ReportQuery['stage'];
  const campaign = text(qs.campaign);
  if (campaign !== undefined) query.campaignId = campaign;
  const variant = text(qs.variant);
  if (variant !== undefined) query.variant = variant;
  const tier = text(qs.tier);
  if (tier !== undefined) query.tier = tier;
  return query;
}

function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The two routes behind the marketer token (scope reports:read) or its report session; the hook is encapsulated in this plugin. */
const securedReportRoutes: FastifyPluginAsyncZod<ApiDeps & { chartJsSrc: string }> = async (secured, deps) => {
  const now = deps.now ?? (() => new Date());
  await secured.register(reportViewerAuth, { tokens: deps.config.http.apiTokens, secureCookie: deps.config.http.publicBaseUrl.startsWith('https://'), now });
  secured.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  });

  secured.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'The retention report as a web page (figures and charts)',
        description:
          'Open in a browser as /reports?token=<API token>&from=2025-01-01&to=2025-04-01: the token is swapped for an 8-hour session ' +
          'cookie (HttpOnly, SameSite=Strict) and a 303 to the same URL without it; the page, its form and its JSON link then use the cookie.',
        security: [{ apiToken: [] }],
        querystring: ReportQuerystring,
        response: {
          200: { description: 'The report page (or, opened from another site, a page that reloads it with the session)', content: { 'text/html': { schema: z.string() } } },
          303: TOKEN_SWAPPED,
        },
      },
    },
    async (request, reply) => {
      const report = await computeReport(deps.ctx.store, toReportQuery(request.query, now()));
      const nonce = randomBytes(16).toString('base64');
      const page = renderReportPage(report, {
        nonce,
        chartJsSrc: deps.chartJsSrc,
        dataPath: '/reports/data',
      });
      return reply.type('text/html; charset=utf-8').header('content-security-policy', contentSecurityPolicy(nonce)).send(page);
    },
  );

  secured.get(
    '/reports/data',
    {
      schema: {
        tags: ['reports'],
        summary: 'The retention report as JSON (see src/reports/types.ts: Report)',
        security: [{ apiToken: [] }],
        querystring: ReportQuerystring,
        response: { 200: z.record(z.string(), z.unknown()).describe('The report (src/reports/types.ts: Report)'), 303: TOKEN_SWAPPED },
      },
    },
    async (request) => (await computeReport(deps.ctx.store, toReportQuery(request.query, now()))) as unknown as Record<string, unknown>,
  );
};

/**
 * The retention report for marketers: `GET /reports` (an HTML page with the headline figures and Chart.js
 * charts), `GET /reports/data` (the same report as JSON) and Chart.js itself, served from the installed package.
 * Both report routes take the marketer token as a bearer header, or a browser's report session, which `?token=`
 * is swapped for (see report-session.ts); their responses are not cached and send no referrer.
 */
export const reportRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const chartJs = await loadChartJsAsset();

  // Chart.js is a public library: no token, so the page's <script src> needs none either.
  app.get(CHART_JS_PATH, { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'public, max-age=604800').header('etag', chartJs.etag);
    if (request.headers['if-none-match'] === chartJs.etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(chartJs.body);
  });

  await app.register(securedReportRoutes, { ...deps, chartJsSrc: `${CHART_JS_PATH}?v=${encodeURIComponent(chartJs.version)}` });
};
