import { z } from 'zod';
import { messageSchemas } from '../shared/messages';
import type { TriggerContext } from './context';
import { deliverCustomerEvent } from './journeys';
import { deliverSurveyAnswer } from './survey-delivery';
import { isTemporalUnavailable } from './temporal-unavailable';

/**
 * What a customer told a journey through a link: a customer event (an unsubscribe; with the event id the journeys
 * apply it once by), or a survey answer for one journey run. Validated when kept and again when read back.
 */
export const PendingSignalSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('customer-event'),
    customerId: z.string().min(1),
    event: z.intersection(messageSchemas().customerEvent, z.object({ eventId: messageSchemas().eventId })),
  }),
  z.object({
    kind: z.literal('survey-answer'),
    workflowId: z.string().min(1),
    runId: z.string().min(1),
    answer: messageSchemas().surveyAnswer,
  }),
]);
export type PendingSignal = z.infer<typeof PendingSignalSchema>;

/** How long one delivery may take before it counts as "Temporal did not answer". */
export const DELIVERY_TIMEOUT_MS = 5_000;

/** One row per customer event, and per survey of a run (the journey takes the first answer anyway). */
function signalKey(signal: PendingSignal): string {
  return signal.kind === 'customer-event'
    ? `customer-event/${signal.customerId}/${signal.event.eventId}`
    : `survey-answer/${signal.workflowId}/${signal.runId}/${signal.answer.survey}`;
}

/**
 * Delivers the signal now: the customer event to every running journey of the customer, or the survey answer to
 * its run. Returns what became of it, in words; throws the journey's refusals (survey closed, not waiting, no
 * journey) and Temporal's failures as they are.
 */
export async function deliverSignal(ctx: TriggerContext, signal: PendingSignal, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<string> {
  return ctx.client.withDeadline(Date.now() + timeoutMs, async () => {
    if (signal.kind === 'customer-event') {
      const { deliveredTo } = await deliverCustomerEvent(ctx.client, ctx.catalog, ctx.taskQueue, signal.customerId, signal.event);
      return deliveredTo.length === 0 ? 'no running journey' : `delivered to ${deliveredTo.join(', ')}`;
    }
    return deliverSurveyAnswer(ctx, signal, signal.answer);
  });
}

export type Delivery = { status: 'delivered'; result: string } | { status: 'kept' };

/**
 * Delivers the signal, or keeps it in the store's outbox when Temporal gives no answer (down, unreachable, too slow):
 * what the customer did is not lost, and the API instances deliver it when Temporal is back (signal-relay.ts).
 * Delivering it twice is harmless: a journey applies a customer event id once and takes one answer per survey.
 */
export async function deliverOrKeep(ctx: TriggerContext, signal: PendingSignal, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<Delivery> {
  const parsed = PendingSignalSchema.parse(signal);
  try {
    return { status: 'delivered', result: await deliverSignal(ctx, parsed, timeoutMs) };
  } catch (err) {
    if (!isTemporalUnavailable(err)) throw err;
    await ctx.store.enqueueSignal({ key: signalKey(parsed), kind: parsed.kind, payload: parsed });
    return { status: 'kept' };
  }
}
