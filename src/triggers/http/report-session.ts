import { createHmac } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { hasScope, type ApiToken } from '../../api-tokens';
import { documentScopes, findToken, refuseMissingScope, requireMarketerToken, safeEqual } from './auth';

/**
 * The report page's browser session (issue 12). A browser opens `/reports?token=<API token>` once; the token is
 * swapped for a session cookie and the browser is sent (303) to the same URL without it, so the token stays out of
 * history, bookmarks, referrers and logs. The cookie holds a view token: the API token's name and an expiry, signed
 * with a key derived from that token's secret. Any API instance with the same API_TOKENS checks it (nothing is kept
 * in memory or in the store), it lapses after REPORT_SESSION_TTL_MS, dies with its API token (removed from
 * API_TOKENS or no longer holding reports:read), and it authorizes the report routes only: nothing else reads it,
 * and the browser sends it only under /reports.
 */
export const REPORT_SESSION_COOKIE = 'retention_report_session';
export const REPORT_SESSION_TTL_MS = 8 * 60 * 60_000;
const COOKIE_PATH = '/reports';
const VERSION = 'v1';
/** Domain separation: the key signs report sessions and nothing else. */
const KEY_PURPOSE = 'retention-orchestrator report session v1';

function sessionKey(token: ApiToken): Buffer {
  return createHmac('sha256', token.secret).update(KEY_PURPOSE).digest();
}

function signature(token: ApiToken, payload: string): string {
  return createHmac('sha256', sessionKey(token)).update(payload).digest('base64url');
}

/** A view token for `token`'s report access until `expiresAt`: `v1.<name, base64url>.<unix seconds>.<HMAC>`. */
export function signReportSession(token: ApiToken, expiresAt: Date): string {
  const payload = `${VERSION}.${Buffer.from(token.name, 'utf8').toString('base64url')}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${signature(token, payload)}`;
}

export type ReportSessionCheck = { ok: true; token: ApiToken } | { ok: false; reason: 'invalid' | 'expired' };

/** Checks a view token: well formed, signed by a configured token that still holds reports:read, not expired. */
export function verifyReportSession(tokens: readonly ApiToken[], value: string, now: Date): ReportSessionCheck {
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return { ok: false, reason: 'invalid' };
  const [, encodedName = '', expires = '', sig = ''] = parts;
  const name = Buffer.from(encodedName, 'base64url').toString('utf8');
  const token = tokens.find((candidate) => candidate.name === name);
  if (!token || !/^\d{1,12}$/.test(expires) || !safeEqual(signature(token, `${VERSION}.${encodedName}.${expires}`), sig)) {
    return { ok: false, reason: 'invalid' };
  }
  if (!hasScope(token, 'reports:read')) return { ok: false, reason: 'invalid' };
  const expiresMs = Number(expires) * 1000;
  // Never longer than a session lasts from now (plus a minute of clock skew between instances).
  if (expiresMs <= now.getTime() || expiresMs > now.getTime() + REPORT_SESSION_TTL_MS + 60_000) return { ok: false, reason: 'expired' };
  return { ok: true, token };
}

/** Every value of the session cookie the request carries (a browser may send more than one with the same name). */
function sessionCookies(request: FastifyRequest): string[] {
  const header = request.headers.cookie;
  if (!header) return [];
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${REPORT_SESSION_COOKIE}=`))
    .map((pair) => pair.slice(REPORT_SESSION_COOKIE.length + 1));
}

export function sessionCookie(value: string, secure: boolean): string {
  const attributes = [`Path=${COOKIE_PATH}`, `Max-Age=${REPORT_SESSION_TTL_MS / 1000}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  return `${REPORT_SESSION_COOKIE}=${value}; ${attributes.join('; ')}`;
}

/** The route's own path with the request's query minus `token` (never the raw URL: no open redirect). */
function locationWithoutToken(request: FastifyRequest): string {
  const path = request.routeOptions.url ?? '/reports';
  const start = request.url.indexOf('?');
  const params = new URLSearchParams(start < 0 ? '' : request.url.slice(start + 1));
  params.delete('token');
  const query = params.toString();
  return query === '' ? path : `${path}?${query}`;
}

/**
 * A browser navigation from another site (a link in webmail, a chat or a wiki): the browser does not send a
 * SameSite=Strict cookie with it, nor with the 303 that follows the token swap, nor when the page is reloaded.
 */
function crossSiteNavigation(request: FastifyRequest): boolean {
  return request.headers['sec-fetch-site'] === 'cross-site' && request.headers['sec-fetch-mode'] === 'navigate';
}

/**
 * For a cross-site navigation without a session: a page that reloads itself at once (a client-side redirect, so 200:
 * no credential was checked, and it is no failed authentication for the rate limits). The reload comes from this
 * origin, so the browser sends the session cookie with it if it has one (and if it has none, the reload is a
 * same-origin request and gets the plain 401). Reports are read-only: showing one after a link from elsewhere is
 * what the link was for.
 */
function sendReloadPage(reply: FastifyReply) {
  return reply
    .code(200)
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0"><title>Retention report</title></head>' +
        '<body><p>Opening the report&hellip; If it does not open, <a href="">reload this page</a> or open the report link again.</p></body></html>',
    );
}

export interface ReportViewerOptions {
  tokens: readonly ApiToken[];
  /** Mark the cookie Secure (PUBLIC_BASE_URL is https). */
  secureCookie: boolean;
  now: () => Date;
}

/**
 * The onRequest hook of the report routes (scope reports:read), in this order:
 * - `Authorization: Bearer <token>`: as on every marketer route (requireMarketerToken);
 * - `?token=<token>`: a valid token with reports:read gets the session cookie and a 303 to the same URL without
 *   the token (403 for a wrong token or one without the scope); the token never serves a page itself;
 * - the session cookie (see verifyReportSession);
 * - else 401 (but a cross-site browser navigation gets a page that reloads itself once: see sendReloadPage).
 */
export function requireReportViewer(options: ReportViewerOptions) {
  const bearer = requireMarketerToken(options.tokens, { read: 'reports:read' });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.authorization !== undefined) return bearer(request, reply);
    const given = (request.query as { token?: unknown } | undefined)?.token;
    if (typeof given === 'string' && given !== '') {
      const token = findToken(options.tokens, given);
      if (!token) return reply.code(403).send({ error: 'Forbidden', message: 'the API token is not valid' });
      request.tokenName = token.name;
      if (!hasScope(token, 'reports:read')) return refuseMissingScope(reply, token, 'reports:read');
      const session = signReportSession(token, new Date(options.now().getTime() + REPORT_SESSION_TTL_MS));
      return reply
        .code(303)
        .header('set-cookie', sessionCookie(session, options.secureCookie))
        .header('location', locationWithoutToken(request))
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send();
    }
    const checks = sessionCookies(request).map((value) => verifyReportSession(options.tokens, value, options.now()));
    const valid = checks.find((check) => check.ok);
    if (valid) {
      request.tokenName = valid.token.name;
      return;
    }
    if (checks.length === 0 && crossSiteNavigation(request)) return sendReloadPage(reply);
    const expired = checks.some((check) => !check.ok && check.reason === 'expired');
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="retention"')
      .send({
        error: 'Unauthorized',
        message: expired
          ? 'the report session has expired: open the report link with ?token=<API token> again'
          : 'send the API token as "Authorization: Bearer <token>", or open the page once as /reports?token=<token> in a browser',
      });
  };
}

/**
 * The report routes' authentication (requireReportViewer) on every route registered after it in the same plugin (not
 * encapsulated), each documented with its scope and both ways in (bearer token, session cookie).
 */
const reportViewerPlugin: FastifyPluginAsync<ReportViewerOptions> = async (app, options) => {
  app.addHook('onRoute', (route: RouteOptions) => {
    documentScopes(route, ['reports:read'], ` as a bearer token, or the report session cookie (\`${REPORT_SESSION_COOKIE}\`) a browser gets for it`);
    route.schema = { ...route.schema, security: [{ apiToken: [] }, { reportSession: [] }] };
  });
  app.addHook('onRequest', requireReportViewer(options));
};

export const reportViewerAuth = Object.assign(reportViewerPlugin, { [Symbol.for('skip-override')]: true });

/** The OpenAPI security scheme of the report session cookie. */
export const REPORT_SESSION_SECURITY_SCHEME = {
  type: 'apiKey',
  in: 'cookie',
  name: REPORT_SESSION_COOKIE,
  description:
    'The report page\'s browser session: GET /reports?token=<API token with reports:read> sets it (8 hours, HttpOnly, SameSite=Strict, ' +
    'Secure on https, Path=/reports) and redirects (303) to the same URL without the token. It authorizes GET /reports and GET /reports/data only.',
} as const;
