import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { Store } from '../../store';
import { bearerToken } from './auth';
import type { ErrorBody } from './errors';
import { ErrorBodySchema } from './schemas';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** How long an answer is kept for retries (and its key refused for another request). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/**
 * How long a key stays in progress when its request never finishes (the instance died): then a retry runs it again.
 * Longer than a request takes, short enough that a client retrying after a crash gets through within its retries.
 */
export const IN_PROGRESS_LEASE_MS = 30_000;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'expected 1 to 255 printable ASCII characters')
  .describe(
    'Optional, recommended for retries: a unique key per request (e.g. a UUID). A retry with the same key and the same request ' +
      'gets the first answer again, with `Idempotent-Replayed: true`, without running twice (for 24 hours; not after a 5xx). ' +
      'The same key while the first request runs: 409; with a different request (method, URL or body): 422.',
  );

const KEY_HEADER = { [IDEMPOTENCY_KEY_HEADER]: IdempotencyKeySchema.optional() };

export interface IdempotencyOptions {
  store: Pick<Store, 'beginIdempotency' | 'completeIdempotency' | 'forgetIdempotency'>;
  /** The caller's credential: part of the key's scope, so two callers' keys never meet. */
  identity(request: FastifyRequest): string;
}

/** The request's Idempotency-Key, once the route's header schema has checked it. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers[IDEMPOTENCY_KEY_HEADER];
  return typeof key === 'string' ? key : undefined;
}

/** Identity of a marketer route's caller: a hash of its bearer token (checked by requireMarketerToken before). */
export function marketerIdentity(request: FastifyRequest): string {
  return `token:${createHash('sha256').update(bearerToken(request.headers.authorization) ?? '').digest('hex')}`;
}

function requestHash(request: FastifyRequest): string {
  const body = request.rawBody ?? (typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null));
  return createHash('sha256').update(`${request.method}\n${request.url}\n${body}`).digest('hex');
}

function withKeyHeader(headers: unknown): z.ZodObject {
  if (headers === undefined) return z.looseObject(KEY_HEADER);
  if (headers instanceof z.ZodObject) return headers.extend(KEY_HEADER);
  throw new Error('Idempotency-Key needs the route header schema to be a zod object');
}

type Hooks<H> = H | H[] | undefined;
const hooks = <H>(existing: Hooks<H>, added: H): H[] => [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), added];

/**
 * Honours `Idempotency-Key` on every write route (POST/PUT/PATCH/DELETE) registered after it in the same plugin
 * (it is not encapsulated): the first request runs and its answer (< 500) is kept in the store for 24 hours, so a
 * retry, also one sent to another instance, gets that answer back instead of running again. Scope: route, method
 * and caller identity. Runs as the last preHandler, after authentication and validation: a request refused
 * before it ran leaves nothing behind (as Stripe does).
 */
const plugin: FastifyPluginAsync<IdempotencyOptions> = async (app, { store, identity }) => {
  const owned = new WeakMap<FastifyRequest, { scope: string; key: string }>();

  const begin = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = idempotencyKeyOf(request);
    if (key === undefined) return;
    const scope = `${request.method} ${request.routeOptions.url ?? ''} ${identity(request)}`;
    const found = await store.beginIdempotency(scope, key, requestHash(request), IN_PROGRESS_LEASE_MS);
    switch (found.state) {
      case 'new':
        owned.set(request, { scope, key });
        return;
      case 'in-progress':
        return reply.code(409).header('retry-after', '1').send({
          error: 'Conflict',
          message: 'a request with this Idempotency-Key is still in progress: retry after it has finished',
        } satisfies ErrorBody);
      case 'mismatch':
        return reply.code(422).send({
          error: 'Unprocessable Entity',
          message: 'this Idempotency-Key was used for a different request (method, URL or body): use a new key for a new request',
        } satisfies ErrorBody);
      case 'done':
        // A string with a content type goes out as it is (no serializer): the bytes first answered.
        return reply.code(found.code).type(found.contentType).header(IDEMPOTENT_REPLAYED_HEADER, 'true').send(found.body);
    }
  };

  const keep = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const record = owned.get(request);
    if (!record) return payload;
    owned.delete(request);
    try {
      if (reply.statusCode < 500 && (payload == null || typeof payload === 'string')) {
        const response = { code: reply.statusCode, body: payload ?? '', contentType: String(reply.getHeader('content-type') ?? 'application/json') };
        await store.completeIdempotency(record.scope, record.key, response, IDEMPOTENCY_TTL_MS);
      } else {
        await store.forgetIdempotency(record.scope, record.key);
      }
    } catch (err) {
      // The request itself went through: answer it. Its key stays in progress until the lease lapses.
      request.log.error({ err }, 'could not store the answer of an idempotent request');
    }
    return payload;
  };

  // Never reached onSend (hijacked or aborted): the key must not block retries until the lease lapses.
  const release = async (request: FastifyRequest) => {
    const record = owned.get(request);
    if (!record) return;
    owned.delete(request);
    await store.forgetIdempotency(record.scope, record.key);
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((method) => WRITE_METHODS.has(method))) return;
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    route.schema = {
      ...route.schema,
      headers: withKeyHeader(route.schema?.headers),
      response: {
        409: ErrorBodySchema.describe('Conflicts with what already exists, or a request with this Idempotency-Key is still in progress'),
        422: ErrorBodySchema.describe('This Idempotency-Key was used for a different request'),
        ...response,
      },
    };
    route.preHandler = hooks(route.preHandler, begin);
    route.onSend = hooks(route.onSend, keep);
    route.onResponse = hooks(route.onResponse, release);
  });
};

// Not encapsulated (what fastify-plugin does): the onRoute hook must see the routes of the plugin registering it.
export const idempotencyKeys = Object.assign(plugin, { [Symbol.for('skip-override')]: true });
