import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { campaignFor, type CampaignCatalog } from '../campaigns/catalog';
import type { Stage } from '../shared/campaign-definition';
import type { JourneyInput, JourneyState } from '../shared/journey-types';
import { customerEventSignal, CustomerEventSchema, journeyStateQuery, type CustomerEvent } from '../shared/messages';
import { CampaignIdKey, CustomerIdKey, LifecycleStageKey } from '../shared/search-attributes';
import { zodErrorLines } from '../shared/zod-errors';
import { UserFacingError } from '../cli-errors';

export const WORKFLOW_TYPES: Record<Stage, string> = {
  onboarding: 'onboardingWorkflow',
  nurture: 'nurtureWorkflow',
  complaint: 'complaintWorkflow',
  winback: 'winbackWorkflow',
};

/**
 * Readable, deterministic ids: one journey per customer per stage. Complaints are keyed by ticket alone, so the
 * support system can address one by the ticket id it knows (the customer is in the search attributes).
 */
export function journeyWorkflowId(stage: Stage, customerId: string, ticketId?: string): string {
  return stage === 'complaint' ? complaintWorkflowId(ticketId ?? '') : `${stage}-${customerId}`;
}

export function complaintWorkflowId(ticketId: string): string {
  return `complaint-${ticketId}`;
}

const REUSE_POLICY = { never: 'REJECT_DUPLICATE', always: 'ALLOW_DUPLICATE', 'after-failure': 'ALLOW_DUPLICATE_FAILED_ONLY' } as const;

export interface JourneyRequest {
  stage: Stage;
  customerId: string;
  campaignId?: string;
  ticket?: { id: string; subject?: string };
}

/** Start options shared by every way a journey begins (trigger, hand-off, signal-with-start). */
export function journeyStartOptions(catalog: CampaignCatalog, taskQueue: string, request: JourneyRequest) {
  if (request.stage === 'complaint' && !request.ticket) throw new UserFacingError('a complaint journey needs a ticket id');
  const entry = campaignFor(catalog, request.stage, request.campaignId);
  const input: JourneyInput = { customerId: request.customerId, definition: entry.input, ticket: request.ticket };
  return {
    taskQueue,
    workflowId: journeyWorkflowId(request.stage, request.customerId, request.ticket?.id),
    args: [input] as [JourneyInput],
    workflowIdReusePolicy: REUSE_POLICY[entry.definition.reentry],
    typedSearchAttributes: [
      { key: CustomerIdKey, value: request.customerId },
      { key: LifecycleStageKey, value: request.stage },
      { key: CampaignIdKey, value: entry.definition.id },
    ],
    memo: { summary: `${request.stage} for ${request.customerId}: ${entry.definition.id} v${entry.definition.version}` },
  } satisfies WorkflowStartOptions;
}

export interface StartedJourney {
  workflowId: string;
  runId?: string;
  /** False when a journey with this id was already running: nothing new was started. */
  started: boolean;
}

/** Starts a stage for one customer; a duplicate trigger gets the running journey back instead of a second copy. */
export async function startJourney(client: Client, catalog: CampaignCatalog, taskQueue: string, request: JourneyRequest): Promise<StartedJourney> {
  const options = journeyStartOptions(catalog, taskQueue, request);
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPES[request.stage], { ...options, workflowIdConflictPolicy: 'FAIL' });
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const description = await client.workflow.getHandle(options.workflowId).describe();
      if (description.status.name === 'RUNNING') return { workflowId: options.workflowId, runId: description.runId, started: false };
      throw new UserFacingError(
        `${request.stage} already ran for customer ${request.customerId} (${options.workflowId}, ${description.status.name}) and campaign re-entry does not allow another run`,
      );
    }
    throw err;
  }
}

/** Starts the stage with the event as its first signal, or signals the running one (the event is never dropped). */
export async function signalWithStartJourney(
  client: Client,
  catalog: CampaignCatalog,
  taskQueue: string,
  request: JourneyRequest,
  event: CustomerEvent,
): Promise<StartedJourney> {
  const options = journeyStartOptions(catalog, taskQueue, request);
  const handle = await client.workflow.signalWithStart(WORKFLOW_TYPES[request.stage], {
    ...options,
    workflowIdConflictPolicy: 'USE_EXISTING',
    signal: customerEventSignal,
    signalArgs: [event],
  });
  return { workflowId: handle.workflowId, runId: handle.signaledRunId, started: true };
}

const EVENT_STAGES: Stage[] = ['onboarding', 'nurture', 'winback'];

/**
 * Delivers a customer event to every running journey of the customer. A purchase or activation that finds no
 * journey starts nurture with it, so the customer always has a stage and the event is not lost.
 */
export async function deliverCustomerEvent(
  client: Client,
  catalog: CampaignCatalog,
  taskQueue: string,
  customerId: string,
  rawEvent: unknown,
): Promise<{ deliveredTo: string[] }> {
  const parsed = CustomerEventSchema.safeParse(rawEvent);
  if (!parsed.success) throw new UserFacingError(`invalid customer event: ${zodErrorLines(parsed.error).join('; ')}`);
  const event = parsed.data;
  const deliveredTo: string[] = [];
  for (const stage of EVENT_STAGES) {
    const workflowId = journeyWorkflowId(stage, customerId);
    try {
      await client.workflow.getHandle(workflowId).signal(customerEventSignal, event);
      deliveredTo.push(workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  if (deliveredTo.length === 0 && (event.type === 'purchase' || event.type === 'activation')) {
    const started = await signalWithStartJourney(client, catalog, taskQueue, { stage: 'nurture', customerId }, event);
    deliveredTo.push(started.workflowId);
  }
  return { deliveredTo };
}

export async function journeyState(client: Client, workflowId: string): Promise<JourneyState> {
  return client.workflow.getHandle(workflowId).query(journeyStateQuery);
}
