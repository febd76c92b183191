import { z } from 'zod';
import type { StoredOutcome } from '../store';
import type { TriggerContext } from './context';
import { NotFoundError, parseInput } from './errors';

/** Where relationship NPS answers are filed in the outcomes table: not part of any stage's journey. */
export const NPS_OUTCOME = { stage: 'relationship', campaignId: 'relationship-nps', step: 'nps', variant: 'none' } as const;

export const NpsAnswerSchema = z.object({
  score: z.number().int('expected a whole number from 0 to 10').min(0, 'expected a score from 0 to 10').max(10, 'expected a score from 0 to 10'),
  comment: z.string().trim().max(2000).optional(),
  /** When the customer answered (the survey tool's time); defaults to now. */
  answeredAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2026-01-31T09:00:00Z' }).optional(),
  /** The survey tool's id for the answer; a repeated id is recorded once. */
  responseId: z.string().trim().min(1).max(200).optional(),
});
export type NpsAnswer = z.input<typeof NpsAnswerSchema>;

/**
 * Records a customer's answer to "How likely are you to recommend us?" (0-10), as sent by a survey tool, for the
 * NPS in reports. A repeated `responseId` returns the row already recorded instead of counting the answer twice:
 * the outcome's natural key `nps/<customer>/<responseId>` makes that hold for concurrent repeats too.
 */
export async function recordNpsAnswer(ctx: Pick<TriggerContext, 'store'>, customerId: string, raw: unknown): Promise<{ outcome: StoredOutcome; duplicate: boolean }> {
  const answer = parseInput(NpsAnswerSchema, raw, 'NPS answer');
  if (!(await ctx.store.getCustomer(customerId))) throw new NotFoundError(`unknown customer ${customerId}`);
  const workflowId = `nps-${customerId}${answer.responseId ? `-${answer.responseId}` : ''}`;
  if (answer.responseId) {
    // Only for the `duplicate` flag of a repeat that comes after the first (and for rows older than fact keys).
    const [existing] = await ctx.store.listOutcomes({ workflowId, status: 'nps', limit: 1 });
    if (existing) return { outcome: existing, duplicate: true };
  }
  const outcome = await ctx.store.recordOutcome({
    ...NPS_OUTCOME,
    customerId,
    holdout: false,
    status: 'nps',
    value: answer.score,
    workflowId,
    occurredAt: answer.answeredAt ? new Date(answer.answeredAt) : new Date(),
    data: answer.comment ? { comment: answer.comment } : null,
    factKey: answer.responseId ? `nps/${customerId}/${answer.responseId}` : null,
  });
  return { outcome, duplicate: false };
}
