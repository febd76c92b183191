import {
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { campaignFor, type CampaignCatalog } from '../campaigns/catalog';
import type { Stage } from '../shared/campaign-definition';
import { JOURNEY_REVISION, type JourneyInput, type JourneyState } from '../shared/journey-types';
import { customerEventSignal, journeyStateQuery, messageSchemas, type CustomerEvent } from '../shared/messages';
import { CampaignIdKey, CampaignStepKey, CustomerIdKey, LifecycleStageKey, OutcomeKey } from '../shared/search-attributes';
import { UserFacingError } from '../cli-errors';
import type { TriggerContext } from './context';
import { ConflictError, InvalidInputError, NotFoundError, parseInput } from './errors';

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

/** The campaign a start will use; an unknown one (or one of another stage) is the caller's mistake, naming the field. */
function campaignOrInvalid(catalog: CampaignCatalog, stage: Stage, campaignId: string | undefined) {
  try {
    return campaignFor(catalog, stage, campaignId);
  } catch (err) {
    if (err instanceof UserFacingError) throw new InvalidInputError('campaign', [{ path: 'campaignId', message: err.message }]);
    throw err;
  }
}

/** Start options shared by every way a journey begins (trigger, hand-off, signal-with-start). */
export function journeyStartOptions(catalog: CampaignCatalog, taskQueue: string, request: JourneyRequest) {
  if (request.stage === 'complaint' && !request.ticket) throw new InvalidInputError('complaint', [{ path: 'ticketId', message: 'a complaint journey needs a ticket id' }]);
  const entry = campaignOrInvalid(catalog, request.stage, request.campaignId);
  const input: JourneyInput = { customerId: request.customerId, definition: entry.input, ticket: request.ticket, revision: JOURNEY_REVISION };
  return {
    taskQueue,
    workflowId: journeyWorkflowId(request.stage, request.customerId, request.ticket?.id),
    args: [input] as [JourneyInput],
    workflowIdReusePolicy: REUSE_POLICY[entry.definition.reentry],
    typedSearchAttributes: [
      { key: CustomerIdKey, value: request.customerId },
      { key: LifecycleStageKey, value: request.stage },
      { key: CampaignIdKey, value: entry.definition.id },
      { key: OutcomeKey, value: 'in-progress' },
      { key: CampaignStepKey, value: 'start' },
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
      throw new ConflictError(
        `${request.stage} already ran for customer ${request.customerId} (${options.workflowId}, ${description.status.name}) and campaign re-entry does not allow another run`,
      );
    }
    throw err;
  }
}

/** Starts a stage for a customer the store knows; an unknown customer is refused before anything starts. */
export async function startCustomerJourney(ctx: TriggerContext, request: JourneyRequest): Promise<StartedJourney> {
  if (!(await ctx.store.getCustomer(request.customerId))) {
    throw new NotFoundError(`unknown customer ${request.customerId}: add the customer first (or start from a CSV with profile columns)`);
  }
  return startJourney(ctx.client, ctx.catalog, ctx.taskQueue, request);
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
  const event = parseInput(messageSchemas().customerEvent, rawEvent, 'customer event');
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

const JOURNEY_TYPES = new Set(Object.values(WORKFLOW_TYPES));

/**
 * Describes `workflowId` when it is one of this project's journeys. Any other workflow in the namespace (the win-back
 * sweep, another application's) is "no journey" to the journey endpoints: they neither show nor cancel it.
 */
async function describeJourney(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (!JOURNEY_TYPES.has(description.type)) throw new NotFoundError(`no journey ${workflowId}`);
    return description;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${workflowId}`);
    throw err;
  }
}

export async function journeyState(client: Client, workflowId: string): Promise<JourneyState> {
  const { runId } = await describeJourney(client, workflowId);
  try {
    return await client.workflow.getHandle(workflowId, runId).query(journeyStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${workflowId}`);
    // The query handler is set once the journey has loaded its customer: not yet, or never (it failed first).
    if (err instanceof QueryNotRegisteredError) throw new ConflictError(`journey ${workflowId} has no state yet: it is starting, or it ended before it began`);
    throw err;
  }
}

/**
 * The run a journey is in now: its first execution run id (stable across continue-as-new, new on re-entry), which
 * keys its sends and its survey links.
 */
export async function journeyRunId(client: Client, workflowId: string): Promise<string> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.raw.workflowExecutionInfo?.firstRunId || description.runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${workflowId}`);
    throw err;
  }
}

const STATE_QUERY_DEADLINE_MS = 2_000;

export interface JourneySummary {
  workflowId: string;
  runId: string;
  type: string;
  stage?: string;
  campaignId?: string;
  status: string;
  startedAt: string;
  closedAt?: string;
  /** The workflow's own view (journeyState query), for running journeys only. */
  state?: JourneyState;
}

/**
 * A customer's journeys, newest first, from Temporal's visibility store (search attribute CustomerId); running ones
 * carry their live state. Visibility is eventually consistent: a journey started a moment ago may be missing.
 */
export async function listCustomerJourneys(client: Client, customerId: string, limit = 50): Promise<JourneySummary[]> {
  const journeys: JourneySummary[] = [];
  const query = `CustomerId = ${JSON.stringify(customerId)}`;
  for await (const info of client.workflow.list({ query, pageSize: limit })) {
    const attributes = info.typedSearchAttributes;
    const summary: JourneySummary = {
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      stage: attributes.get(LifecycleStageKey),
      campaignId: attributes.get(CampaignIdKey),
      status: info.status.name,
      startedAt: info.startTime.toISOString(),
      closedAt: info.closeTime?.toISOString(),
    };
    if (info.status.name === 'RUNNING' && summary.stage) {
      // A query waits for a worker; with none polling, show the journey without its live state instead of hanging.
      summary.state = await client
        .withDeadline(Date.now() + STATE_QUERY_DEADLINE_MS, () => client.workflow.getHandle(info.workflowId, info.runId).query(journeyStateQuery))
        .catch(() => undefined);
    }
    journeys.push(summary);
    if (journeys.length >= limit) break;
  }
  return journeys;
}

/** Asks a running journey to stop (Temporal cancellation); the workflow records how it ended. */
export async function cancelJourney(client: Client, workflowId: string): Promise<{ workflowId: string; status: string }> {
  const description = await describeJourney(client, workflowId);
  if (description.status.name !== 'RUNNING') {
    throw new ConflictError(`journey ${workflowId} is not running (${description.status.name})`);
  }
  try {
    await client.workflow.getHandle(workflowId, description.runId).cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${workflowId}`);
    throw err;
  }
  return { workflowId, status: 'CANCEL_REQUESTED' };
}
