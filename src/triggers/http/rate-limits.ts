import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from './deps';
import type { ErrorBody } from './errors';

/** At most `max` counted requests per client address in each fixed window of `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;
type Counted = Extract<Awaited<ReturnType<Check>>, { isAllowed: false }>;

/** A limiter of @fastify/rate-limit counting as `name` in the shared store (see rate-limit-store.ts), per client address. */
function limiter(app: FastifyInstance, name: string, limit: RateLimit): Check {
  // `limiter` is not an option of the plugin: it passes through to the store's child(), which counts under that name.
  const options = { limiter: name, max: limit.max, timeWindow: limit.windowMs };
  return app.createRateLimit(options);
}

/**
 * The counter's answer, or undefined when the store could not be reached: the request then goes through, so a
 * database hiccup does not take every route down with it (routes that need the store fail on their own).
 */
async function counted(request: FastifyRequest, counting: ReturnType<Check>): Promise<Counted | undefined> {
  try {
    const state = await counting;
    return state.isAllowed ? undefined : state;
  } catch (err) {
    request.log.warn({ err }, 'rate limit: could not count the request; letting it through');
    return undefined;
  }
}

/** Sets Retry-After and the x-ratelimit-* headers of a refused request; returns the seconds to wait (at least 1). */
function refusalHeaders(reply: FastifyReply, state: Counted): number {
  const seconds = Math.max(1, state.ttlInSeconds);
  reply.header('retry-after', seconds).header('x-ratelimit-limit', state.max).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', seconds);
  return seconds;
}

function waitFor(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** What a customer-facing link answers over its limit; the link pages render it (a page, or JSON for API clients). */
export interface TooManyRequests {
  status: 429;
  title: string;
  message: string;
}

/**
 * Limits every route of `app` (the customer-facing links) to `limit` requests per client address and window,
 * across API instances. `refuse` sends the answer to a request over the limit, after Retry-After is set.
 */
export function limitPublicLinks(app: FastifyInstance, limit: RateLimit, refuse: (request: FastifyRequest, reply: FastifyReply, answer: TooManyRequests) => unknown): void {
  const check = limiter(app, 'links', limit);
  app.addHook('onRequest', async (request, reply) => {
    const state = await counted(request, check(request));
    if (!state?.isExceeded) return;
    const seconds = refusalHeaders(reply, state);
    await refuse(request, reply, { status: 429, title: 'Too many requests', message: `We received too many requests from your network. Please try again in ${waitFor(seconds)}.` });
    return reply;
  });
}

const FAILED_AUTHENTICATION = new Set([401, 403]);

/**
 * Registers `routes` (the marketer and support endpoints) in a scope where failed authentications, answers 401 or
 * 403 without a valid credential, count against the client address. Once it has `failedAuth.max` in a window, the address gets 429 before its
 * credentials are even checked, until the window ends; authenticated traffic is never counted.
 */
export function limitingFailedAuthentication(routes: FastifyPluginAsyncZod<ApiDeps>[]): FastifyPluginAsyncZod<ApiDeps> {
  return async (app, deps) => {
    const check = limiter(app, 'failed-auth', deps.config.http.rateLimits.failedAuth);
    // Before any other hook of these routes, so a refused address learns nothing about the credentials it sends.
    app.addHook('onRequest', async (request, reply) => {
      const state = await counted(request, check(request, { increment: false }));
      if (state === undefined || state.remaining > 0) return;
      const seconds = refusalHeaders(reply, state);
      const message = `too many failed authentications from this address; try again in ${waitFor(seconds)}`;
      return reply.code(429).send({ error: 'Too Many Requests', message } satisfies ErrorBody);
    });
    // onSend, not onResponse: the failure is counted before the client sees it, so its next attempt finds it counted.
    app.addHook('onSend', async (request, reply, payload) => {
      // A token that authenticated (it has a name) but lacks the route's scope is a 403, not a failed login.
      if (FAILED_AUTHENTICATION.has(reply.statusCode) && request.tokenName === undefined) await counted(request, check(request));
      return payload;
    });
    for (const plugin of routes) await app.register(plugin, deps);
  };
}
