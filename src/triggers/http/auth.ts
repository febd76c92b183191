import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { API_SCOPES, hasScope, SCOPE_MEANINGS, type ApiScope, type ApiToken } from '../../api-tokens';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The name of the API token the request was authorized with (API_TOKENS; also through a report session), for logs
     * and audit records. Never the token itself. Unset on routes without a marketer token.
     */
    tokenName?: string;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it is. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

/** The configured token whose secret `given` is; every secret is compared, in constant time. */
export function findToken(tokens: readonly ApiToken[], given: string): ApiToken | undefined {
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (safeEqual(token.secret, given)) found ??= token;
  }
  return found;
}

/** 403 for a valid token without the scope the route needs: names the token and the scope, so the fix is clear. */
export function refuseMissingScope(reply: FastifyReply, token: ApiToken, scope: ApiScope | undefined) {
  const message =
    scope === undefined
      ? `no API token scope allows ${reply.request.method} here`
      : `the API token "${token.name}" lacks the scope ${scope}; its scopes: ${token.scopes.join(', ') || 'none'}`;
  return reply.code(403).send({ error: 'Forbidden', message });
}

/** The scopes a group of marketer routes needs: `read` for GET and HEAD, `write` for every other method. */
export interface RouteScopes {
  read?: ApiScope;
  write?: ApiScope;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

export function requiredScope(method: string, scopes: RouteScopes): ApiScope | undefined {
  return READ_METHODS.has(method) ? scopes.read : scopes.write;
}

/**
 * An onRequest hook for the marketer endpoints: `Authorization: Bearer <token>` with one of the configured API
 * tokens, else 401 (no token) or 403 (wrong token); then the token's name goes on the request (`tokenName`) and the
 * token must hold the scope of the request's method, else 403 naming the missing scope.
 */
export function requireMarketerToken(tokens: readonly ApiToken[], scopes: RouteScopes) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="retention"')
        .send({ error: 'Unauthorized', message: 'send the API token as "Authorization: Bearer <token>"' });
    }
    const token = findToken(tokens, given);
    if (!token) {
      return reply.code(403).send({ error: 'Forbidden', message: 'the API token is not valid' });
    }
    request.tokenName = token.name;
    const scope = requiredScope(request.method, scopes);
    if (scope === undefined || !hasScope(token, scope)) return refuseMissingScope(reply, token, scope);
  };
}

/** Documents a route's required scopes in the OpenAPI document: `x-required-scopes` and a line of its description. */
export function documentScopes(route: RouteOptions, scopes: readonly ApiScope[], detail = ''): void {
  if (route.schema && 'x-required-scopes' in route.schema) return; // a HEAD route copied from its GET route
  const note = `Requires an API token with scope ${scopes.map((scope) => `\`${scope}\``).join(' and ')}${detail}.`;
  const description = route.schema?.description;
  route.schema = {
    ...route.schema,
    description: typeof description === 'string' && description !== '' ? `${description}\n\n${note}` : note,
    'x-required-scopes': scopes,
  } as RouteOptions['schema'];
}

const methodsOf = (route: RouteOptions) => (Array.isArray(route.method) ? route.method : [route.method]);

export interface MarketerAuthOptions extends RouteScopes {
  tokens: readonly ApiToken[];
}

/**
 * The marketer token on every route registered after it in the same plugin (it is not encapsulated, like
 * idempotencyKeys): checks the token and its scope (requireMarketerToken), documents the scope on each route, refuses
 * to register a route whose method has no scope, and logs every write (any method but GET and HEAD) with the token's
 * name: `{tokenName, method, route, status}` at info level.
 */
const marketerAuthPlugin: FastifyPluginAsync<MarketerAuthOptions> = async (app, options) => {
  const scopes: RouteScopes = { read: options.read, write: options.write };
  app.addHook('onRoute', (route: RouteOptions) => {
    const needed = methodsOf(route).map((method) => {
      const scope = requiredScope(method, scopes);
      if (scope === undefined) throw new Error(`${method} ${route.url}: no API token scope is set for ${READ_METHODS.has(method) ? 'reads' : 'writes'} here (marketerAuth)`);
      return scope;
    });
    documentScopes(route, [...new Set(needed)]);
  });
  app.addHook('onRequest', requireMarketerToken(options.tokens, scopes));
  app.addHook('onResponse', async (request, reply) => {
    if (READ_METHODS.has(request.method) || request.tokenName === undefined) return;
    request.log.info(
      { tokenName: request.tokenName, method: request.method, route: request.routeOptions.url, status: reply.statusCode },
      'marketer write',
    );
  });
};

export const marketerAuth = Object.assign(marketerAuthPlugin, { [Symbol.for('skip-override')]: true });

/** The OpenAPI security scheme of the marketer routes; OpenAPI bearer schemes have no scopes, so they are described here. */
export const API_TOKEN_SECURITY_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  description:
    'A marketer API token (API_TOKENS: comma-separated `name:scope+scope:secret` entries, or bare secrets holding every scope). ' +
    `Scopes: ${API_SCOPES.map((scope) => `\`${scope}\` (${SCOPE_MEANINGS[scope]})`).join('; ')}; \`*\` is every scope. ` +
    "Each operation names the scope it needs in its description and in `x-required-scopes`; a valid token without it gets 403 naming the scope. " +
    "Writes are logged with the token's name.",
} as const;
