import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { JourneyState } from './journey-types';

/** Everything a customer does that a running journey may react to; triggers validate with this schema. */
export const CustomerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('purchase'), amount: z.number().positive(), orderId: z.string().min(1).max(200).optional() }),
  z.object({ type: z.literal('activation') }),
  z.object({ type: z.literal('login') }),
  z.object({ type: z.literal('unsubscribe'), channel: z.enum(['email', 'sms', 'all']).default('all') }),
  z.object({ type: z.literal('resubscribe'), channel: z.enum(['email', 'sms', 'all']).default('all') }),
  z.object({ type: z.literal('channel-preference'), channel: z.enum(['email', 'sms']) }),
]);
export type CustomerEvent = z.infer<typeof CustomerEventSchema>;
export type CustomerEventType = CustomerEvent['type'];

/** Progress reported by the support system on a complaint ticket. */
export const SupportUpdateSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('first-response'), note: z.string().max(2000).optional() }),
  z.object({ type: z.literal('update'), note: z.string().max(2000).optional() }),
  z.object({ type: z.literal('resolved'), note: z.string().max(2000).optional() }),
]);
export type SupportUpdate = z.infer<typeof SupportUpdateSchema>;

/** A survey answer: CSAT on 1-5 after a complaint, or the reason a lapsed customer gives for leaving. */
export const SurveyAnswerSchema = z.discriminatedUnion('survey', [
  z.object({ survey: z.literal('csat'), rating: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() }),
  z.object({ survey: z.literal('churn-reason'), reason: z.string().min(1).max(200) }),
]);
export type SurveyAnswer = z.infer<typeof SurveyAnswerSchema>;

export const customerEventSignal = defineSignal<[CustomerEvent]>('customerEvent');
export const supportUpdateSignal = defineSignal<[SupportUpdate]>('supportUpdate');
export const surveyAnswerSignal = defineSignal<[SurveyAnswer]>('surveyAnswer');
export const journeyStateQuery = defineQuery<JourneyState>('journeyState');
/** Records a survey answer and tells the caller whether the journey was waiting for it (validated before it is accepted). */
export const submitSurveyUpdate = defineUpdate<{ accepted: boolean }, [SurveyAnswer]>('submitSurvey');
