import type { FastifyRequest } from 'fastify';

/** Query parameters that carry a credential: the report page's API token, a signed link's signature. */
const CREDENTIAL_PARAMS = new Set(['token', 't']);
const REDACTED = '[redacted]';

/** The URL with every credential in its query string replaced, for logs. */
function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const params = new URLSearchParams(url.slice(start + 1));
  const kept = [...params].map(([key, value]) => [key, CREDENTIAL_PARAMS.has(key) ? REDACTED : value] as const);
  return `${url.slice(0, start)}?${kept.map(([key, value]) => `${encodeURIComponent(key)}=${value === REDACTED ? value : encodeURIComponent(value)}`).join('&')}`;
}

/**
 * The request as the API logs it: method, redacted URL, host and peer. Headers are left out (Authorization, signatures);
 * bodies are never logged (contact data).
 */
export function loggedRequest(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip };
}
