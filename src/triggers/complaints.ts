import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { messageSchemas, supportUpdateSignal, type SupportUpdate } from '../shared/messages';
import type { TriggerContext } from './context';
import { NotFoundError, parseInput } from './errors';
import { supportUpdateId, type EventIdSources } from './event-ids';
import { complaintWorkflowId, startJourney, type StartedJourney } from './journeys';

export const OpenComplaintSchema = z.object({
  ticketId: z
    .string()
    .trim()
    .min(1, 'expected the support ticket id')
    .max(120)
    .regex(/^[A-Za-z0-9._:-]+$/, 'expected letters, digits, ".", "_", ":" or "-"'),
  customerId: z.string().trim().min(1, 'expected a customer id'),
  subject: z.string().trim().max(300).optional(),
  campaignId: z.string().min(1).optional(),
});
export type OpenComplaint = z.input<typeof OpenComplaintSchema>;

/**
 * Starts complaint resolution for a support ticket. Idempotent on the ticket id: a second call for the same
 * ticket returns the running journey (`started: false`) instead of starting another.
 */
export async function openComplaint(ctx: TriggerContext, raw: unknown): Promise<StartedJourney> {
  const request = parseInput(OpenComplaintSchema, raw, 'complaint');
  if (!(await ctx.store.getCustomer(request.customerId))) throw new NotFoundError(`unknown customer ${request.customerId}`);
  return startJourney(ctx.client, ctx.catalog, ctx.taskQueue, {
    stage: 'complaint',
    customerId: request.customerId,
    campaignId: request.campaignId,
    ticket: { id: request.ticketId, subject: request.subject },
  });
}

/**
 * Relays support progress (first response, update, resolved) to the ticket's running complaint journey, with an
 * event id (see supportUpdateId) so that a retried request is applied once.
 */
export async function reportComplaintProgress(
  ctx: Pick<TriggerContext, 'client'>,
  ticketId: string,
  raw: unknown,
  sources: EventIdSources = {},
): Promise<{ workflowId: string; update: SupportUpdate & { eventId: string } }> {
  const parsed = parseInput(messageSchemas().supportUpdate, raw, 'complaint event');
  const update = { ...parsed, eventId: supportUpdateId(parsed, sources) };
  const workflowId = complaintWorkflowId(ticketId);
  try {
    await ctx.client.workflow.getHandle(workflowId).signal(supportUpdateSignal, update);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no open complaint for ticket ${ticketId}`);
    throw err;
  }
  return { workflowId, update };
}
