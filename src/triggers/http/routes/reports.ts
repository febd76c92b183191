import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { computeReport } from '../../../reports/compute';
import { loadChartJsAsset } from '../../../reports/page/chart-asset';
import { renderReportPage } from '../../../reports/page/report-page';
import { DEFAULT_PERIOD_MS, parseReportDate, periodProblem } from '../../../reports/query';
import { REPORT_STAGES, type ReportQuery } from '../../../reports/types';
import { InvalidInputError } from '../../errors';
import { requireMarketerToken, safeEqual } from '../auth';
import type { ApiDeps } from '../deps';

const DATE_HINT = 'expected a date such as 2025-01-31 or 2025-01-31T12:00:00Z';
const CHART_JS_PATH = '/reports/assets/chart.umd.js';

const reportDate = (what: string) =>
  z
    .string()
    .refine((text) => text.trim() === '' || parseReportDate(text) !== undefined, DATE_HINT)
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
    .describe('the marketer API token, for browsers (a link or bookmark cannot send the Authorization header); prefer the header elsewhere'),
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

/**
 * The marketer token as `Authorization: Bearer <token>` (see requireMarketerToken) or, for a browser opening the
 * page from a link, as `?token=<token>`; both compared in constant time. A header, when present, is what counts.
 */
export function requireMarketerTokenOrQuery(tokens: readonly string[]) {
  const bearer = requireMarketerToken(tokens);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const given = (request.query as { token?: unknown } | undefined)?.token;
    if (request.headers.authorization !== undefined || typeof given !== 'string' || given === '') return bearer(request, reply);
    if (!tokens.some((token) => safeEqual(token, given))) {
      return reply.code(403).send({ error: 'Forbidden', message: 'the API token is not valid' });
    }
  };
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

/** The two routes behind the marketer token; the hook is encapsulated in this plugin. */
const securedReportRoutes: FastifyPluginAsyncZod<ApiDeps & { chartJsSrc: string }> = async (secured, deps) => {
  const now = deps.now ?? (() => new Date());
  secured.addHook('onRequest', requireMarketerTokenOrQuery(deps.config.http.apiTokens));
  secured.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  });

  secured.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'The retention report as a web page (figures and charts)',
        description: 'Open in a browser as /reports?token=<API token>&from=2025-01-01&to=2025-04-01.',
        security: [{ apiToken: [] }],
        querystring: ReportQuerystring,
      },
    },
    async (request, reply) => {
      const report = await computeReport(deps.ctx.store, toReportQuery(request.query, now()));
      const nonce = randomBytes(16).toString('base64');
      const page = renderReportPage(report, {
        ...(request.query.token ? { token: request.query.token } : {}),
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
      },
    },
    async (request) => computeReport(deps.ctx.store, toReportQuery(request.query, now())),
  );
};

/**
 * The retention report for marketers: `GET /reports` (an HTML page with the headline figures and Chart.js
 * charts), `GET /reports/data` (the same report as JSON) and Chart.js itself, served from the installed package.
 * Both report routes take the marketer token as a bearer header or as `?token=` (a browser cannot add a header
 * to a navigation); responses carrying it are not cached and send no referrer.
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
