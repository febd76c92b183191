import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { messageSchemas } from '../../../shared/messages';
import { openComplaint, OpenComplaintSchema, reportComplaintProgress } from '../../complaints';
import type { ApiDeps } from '../deps';
import type { ErrorBody } from '../errors';
import { idempotencyKeyOf, idempotencyKeys } from '../idempotency';
import { campaignIdField } from '../schemas';
import { SUPPORT_SIGNATURE_HEADER, SUPPORT_TIMESTAMP_HEADER, verifySupportSignature } from '../signatures';

const SIGNED = `Signed by the support system: \`${SUPPORT_TIMESTAMP_HEADER}\` is the unix time in seconds and \`${SUPPORT_SIGNATURE_HEADER}\` is \`sha256=<hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path and query>.<raw body>">\` with SUPPORT_WEBHOOK_SECRET. A timestamp outside the tolerance (WEBHOOK_TOLERANCE) or a wrong signature gets 401; the same signed request sent twice within the tolerance gets 409.`;

const SignedHeaders = z.looseObject({
  [SUPPORT_TIMESTAMP_HEADER]: z.string().describe('unix time in seconds when the request was signed'),
  [SUPPORT_SIGNATURE_HEADER]: z.string().describe('sha256=<hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path and query>.<raw body>">'),
});

const ErrorResponse = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const StartedResponse = z.object({
  workflowId: z.string(),
  runId: z.string().optional(),
  started: z.boolean().describe('false when the ticket already had a running complaint journey (nothing new was started)'),
});

const REJECTIONS = {
  missing: `send the ${SUPPORT_TIMESTAMP_HEADER} and ${SUPPORT_SIGNATURE_HEADER} headers`,
  malformed: `${SUPPORT_TIMESTAMP_HEADER} must be unix seconds and ${SUPPORT_SIGNATURE_HEADER} "sha256=<64 hex digits>"`,
  'bad-signature': 'the signature does not match the body',
  stale: 'stale timestamp: outside the accepted window (check the clock, sign each request anew)',
} as const;

/**
 * The support system's webhooks: a new complaint ticket starts complaint resolution, progress on a ticket is
 * relayed to its journey. Requests are HMAC-signed over method, path, timestamp and raw body and checked before the body is used.
 */
export const complaintRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { config, ctx } = deps;
  const now = deps.now ?? (() => new Date());
  const claimed = new WeakMap<FastifyRequest, string>();

  const deny = (reply: FastifyReply, status: 401 | 409 | 415, error: string, message: string) =>
    reply.code(status).send({ error, message } satisfies ErrorBody);

  // preValidation: after the body is read (the raw text is kept), before the schema looks at it.
  app.addHook('preValidation', async (request, reply) => {
    if (request.body !== undefined && request.rawBody === undefined) {
      return deny(reply, 415, 'Unsupported Media Type', 'send the body as application/json');
    }
    const check = verifySupportSignature(
      config.http.supportWebhookSecret,
      { timestamp: request.headers[SUPPORT_TIMESTAMP_HEADER], signature: request.headers[SUPPORT_SIGNATURE_HEADER] },
      { method: request.method, path: request.url, rawBody: request.rawBody ?? '' },
      now(),
      config.http.webhookToleranceMs,
    );
    if (!check.ok) {
      reply.header('www-authenticate', `Signature realm="retention", headers="${SUPPORT_TIMESTAMP_HEADER} ${SUPPORT_SIGNATURE_HEADER}"`);
      return deny(reply, 401, 'Unauthorized', REJECTIONS[check.reason]);
    }
    const signature = String(request.headers[SUPPORT_SIGNATURE_HEADER]).toLowerCase();
    // Claimed in the store, which every API instance shares: a replay sent to another instance is refused too.
    // Until the timestamp leaves the tolerance window: after that the timestamp check refuses the request anyway.
    if (!(await ctx.store.claimSignature(signature, new Date(check.timestampMs + config.http.webhookToleranceMs), now()))) {
      return deny(reply, 409, 'Conflict', 'replayed request: this signature was already used; sign each request with a fresh timestamp');
    }
    claimed.set(request, signature);
  });
  // A request that failed on our side may be retried as it was signed: forget its signature.
  app.addHook('onResponse', async (request, reply) => {
    const signature = claimed.get(request);
    if (signature && reply.statusCode >= 500) await ctx.store.releaseSignature(signature);
  });
  await app.register(idempotencyKeys, { store: ctx.store, identity: () => 'support' });

  app.post(
    '/complaints',
    {
      schema: {
        summary: 'Open a complaint (support ticket created)',
        description: `Starts complaint resolution for the ticket's customer. Idempotent on ticketId: a ticket that already has a running journey gets it back with 200 and started: false. ${SIGNED}`,
        tags: ['support'],
        security: [{ supportSignature: [] }],
        headers: SignedHeaders,
        body: OpenComplaintSchema.extend({ campaignId: campaignIdField(ctx.catalog, 'complaint') }),
        response: { 200: StartedResponse, 201: StartedResponse, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const started = await openComplaint(ctx, request.body);
      return reply.code(started.started ? 201 : 200).send(started);
    },
  );

  app.post(
    '/complaints/:ticketId/events',
    {
      schema: {
        summary: 'Report progress on a complaint ticket',
        description: `Relays first-response, update or resolved (with an optional note) to the ticket's running complaint journey; 404 when the ticket has no open complaint. ${SIGNED}`,
        tags: ['support'],
        security: [{ supportSignature: [] }],
        headers: SignedHeaders,
        params: z.object({ ticketId: OpenComplaintSchema.shape.ticketId }),
        body: messageSchemas().supportUpdate,
        response: {
          202: z.object({
            workflowId: z.string(),
            type: z.enum(['first-response', 'update', 'resolved']),
            eventId: z.string().describe('the id the journey applies once: the body\'s eventId, else the Idempotency-Key, else the signature'),
          }),
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { workflowId, update } = await reportComplaintProgress(ctx, request.params.ticketId, request.body, {
        idempotencyKey: idempotencyKeyOf(request),
        signature: claimed.get(request),
      });
      return reply.code(202).send({ workflowId, type: update.type, eventId: update.eventId });
    },
  );
};
