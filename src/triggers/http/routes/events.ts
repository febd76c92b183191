import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { messageSchemas } from '../../../shared/messages';
import { recordCustomerEvent } from '../../customer-events';
import { InvalidInputError } from '../../errors';
import { NpsAnswerSchema, recordNpsAnswer } from '../../nps';
import { marketerAuth } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotencyKeyOf, idempotencyKeys, marketerIdentity } from '../idempotency';
import { CustomerParamsSchema, errorResponses, MARKETER_SECURITY, tokenEvidence, withBodyPaths } from '../schemas';

/** An event is a few fields; anything larger is not one. */
const EVENT_BODY_LIMIT = 16 * 1024;
/** Clock skew tolerated on `occurredAt`: activity time only moves forward, so a future time would stick. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

const EventBodySchema = z
  .intersection(
    messageSchemas().customerEvent,
    z.object({ occurredAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2026-01-31T09:00:00Z' }).optional() }),
  )
  .describe('a customer event (purchase, activation, login, unsubscribe, resubscribe, channel-preference), optionally with when it happened');

const RecordedEventSchema = z.object({
  event: z.record(z.string(), z.unknown()).describe('the event as delivered'),
  deliveredTo: z.array(z.string()).describe('journeys (workflow ids) the event reached; a purchase or activation with none starts nurture'),
});

/** Marketer endpoint for customer events: stored (consent, activity) and delivered to the customer's journeys. */
export const eventRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const now = deps.now ?? (() => new Date());
  await app.register(marketerAuth, { tokens: deps.config.http.apiTokens, write: 'customers:write' });
  await app.register(idempotencyKeys, { store: deps.ctx.store, identity: marketerIdentity });

  app.post(
    '/customers/:id/events',
    {
      bodyLimit: EVENT_BODY_LIMIT,
      schema: {
        tags: ['events'],
        summary: 'Record a customer event',
        description:
          'Unsubscribe/resubscribe change consent at once; purchase, activation and login move the last-activity time. The event is signalled ' +
          'to every running journey of the customer; a purchase or activation that finds none starts nurture with it. A journey applies ' +
          'an event id once: the body\'s `eventId`, else `order:<orderId>` for a purchase, else `idem:<Idempotency-Key>`, else a new one.',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        body: EventBodySchema,
        response: { 202: RecordedEventSchema, ...errorResponses(404, 413, 415) },
      },
    },
    async (request, reply) => {
      const { occurredAt, ...event } = request.body;
      const at = occurredAt === undefined ? now() : new Date(occurredAt);
      if (at.getTime() > now().getTime() + MAX_FUTURE_SKEW_MS) {
        throw new InvalidInputError('customer event', [{ path: 'body.occurredAt', message: 'must not be in the future' }]);
      }
      const recorded = await recordCustomerEvent(
        deps.ctx,
        request.params.id,
        event,
        at,
        { idempotencyKey: idempotencyKeyOf(request) },
        { source: 'api-event', evidence: tokenEvidence(request) },
      );
      return reply.code(202).send(recorded);
    },
  );

  app.post(
    '/customers/:id/nps',
    {
      bodyLimit: EVENT_BODY_LIMIT,
      schema: {
        tags: ['events'],
        summary: "Record a customer's NPS answer",
        description:
          'For survey tools: "How likely are you to recommend us?" on 0-10, feeding the NPS in reports. Idempotent on responseId ' +
          '(a repeat answers 200 with the recorded answer; a new answer 201).',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        body: NpsAnswerSchema,
        response: {
          201: z.object({ id: z.number(), score: z.number(), duplicate: z.boolean() }),
          200: z.object({ id: z.number(), score: z.number(), duplicate: z.boolean() }),
          ...errorResponses(404, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { outcome, duplicate } = await withBodyPaths(() => recordNpsAnswer(deps.ctx, request.params.id, request.body));
      return reply.code(duplicate ? 200 : 201).send({ id: outcome.id, score: outcome.value as number, duplicate });
    },
  );
};
