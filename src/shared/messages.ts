import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { CHURN_REASON_KEY } from './campaign-definition';
import type { JourneyState } from './journey-types';

/*
 * The schemas triggers validate messages with, built on first use: a worker evaluates the workflow modules once per
 * journey it holds in its cache, and a journey needs none of them until an update asks it to validate an answer.
 */
function buildMessageSchemas() {
  /**
   * Identifies one event from its source (the order id, the support system's event id, an Idempotency-Key):
   * a journey applies an event id once, however often it is delivered.
   */
  const EventIdSchema = z
    .string()
    .min(1)
    .max(200)
    .describe('the source\'s id for this event; the same id delivered again is applied once');

  const eventId = { eventId: EventIdSchema.optional() };

  /** Everything a customer does that a running journey may react to; triggers validate with this schema. */
  const CustomerEventSchema = z.discriminatedUnion('type', [
    z.object({ type: z.literal('purchase'), amount: z.number().positive(), orderId: z.string().min(1).max(200).optional(), ...eventId }),
    z.object({ type: z.literal('activation'), ...eventId }),
    z.object({ type: z.literal('login'), ...eventId }),
    z.object({ type: z.literal('unsubscribe'), channel: z.enum(['email', 'sms', 'all']).default('all'), ...eventId }),
    z.object({ type: z.literal('resubscribe'), channel: z.enum(['email', 'sms', 'all']).default('all'), ...eventId }),
    z.object({ type: z.literal('channel-preference'), channel: z.enum(['email', 'sms']), ...eventId }),
  ]);

  /** Progress reported by the support system on a complaint ticket. */
  const SupportUpdateSchema = z.discriminatedUnion('type', [
    z.object({ type: z.literal('first-response'), note: z.string().max(2000).optional(), ...eventId }),
    z.object({ type: z.literal('update'), note: z.string().max(2000).optional(), ...eventId }),
    z.object({ type: z.literal('resolved'), note: z.string().max(2000).optional(), ...eventId }),
  ]);

  /** A survey answer: CSAT on 1-5 after a complaint, or the reason a lapsed customer gives for leaving. */
  const SurveyAnswerSchema = z.discriminatedUnion('survey', [
    z.object({ survey: z.literal('csat'), rating: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() }),
    z.object({
      survey: z.literal('churn-reason'),
      /** A key of the campaign's churnSurvey.reasons (the journey refuses any other). */
      reason: z.string().regex(CHURN_REASON_KEY),
      /** The customer's own words with reason `other`: kept on the outcome, never counted as a reason. */
      comment: z.string().max(180).optional(),
    }),
  ]);

  return { eventId: EventIdSchema, customerEvent: CustomerEventSchema, supportUpdate: SupportUpdateSchema, surveyAnswer: SurveyAnswerSchema };
}

type MessageSchemas = ReturnType<typeof buildMessageSchemas>;
let schemas: MessageSchemas | undefined;

export function messageSchemas(): MessageSchemas {
  schemas ??= buildMessageSchemas();
  return schemas;
}

export type CustomerEvent = z.infer<MessageSchemas['customerEvent']>;
export type CustomerEventType = CustomerEvent['type'];
export type SupportUpdate = z.infer<MessageSchemas['supportUpdate']>;
export type SurveyAnswer = z.infer<MessageSchemas['surveyAnswer']>;

export const customerEventSignal = defineSignal<[CustomerEvent]>('customerEvent');
export const supportUpdateSignal = defineSignal<[SupportUpdate]>('supportUpdate');
export const surveyAnswerSignal = defineSignal<[SurveyAnswer]>('surveyAnswer');
export const journeyStateQuery = defineQuery<JourneyState>('journeyState');
/**
 * Records a survey answer and tells the caller whether the journey was waiting for it (validated before it is
 * accepted). With a run id, only that run of the journey takes it: a link from an earlier run is refused.
 */
export const submitSurveyUpdate = defineUpdate<{ accepted: boolean }, [SurveyAnswer, { runId?: string }]>('submitSurvey');
