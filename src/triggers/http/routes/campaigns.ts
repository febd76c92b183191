import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { campaignFor, type CampaignCatalog } from '../../../campaigns/catalog';
import { UserFacingError } from '../../../cli-errors';
import type { Stage } from '../../../shared/campaign-definition';
import type { TriggerContext } from '../../context';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors';
import { CustomerIdSchema } from '../../customers';
import { cancelJourney, journeyState, journeyWorkflowId, listCustomerJourneys, startCustomerJourney } from '../../journeys';
import { marketerAuth } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotencyKeys, marketerIdentity } from '../idempotency';
import {
  campaignIdField,
  CustomerParamsSchema,
  errorResponses,
  JourneyStateSchema,
  JourneySummarySchema,
  MARKETER_SECURITY,
  STARTABLE_STAGES,
  StartableStageSchema,
  type StartableStage,
  WorkflowParamsSchema,
} from '../schemas';

const TAGS = ['campaigns'];
const MAX_CUSTOMERS_PER_START = 1000;
/** Journeys being started at once by one request. */
const START_CONCURRENCY = 16;

const START_RESULTS = ['started', 'already-running', 'already-ran', 'unknown-customer'] as const;
type StartResult = (typeof START_RESULTS)[number];

const startBodySchema = (catalog: CampaignCatalog, stage: StartableStage) =>
  z.strictObject({
    customerIds: z.array(CustomerIdSchema).min(1).max(MAX_CUSTOMERS_PER_START),
    campaignId: campaignIdField(catalog, stage),
  });

const CustomerStartResultSchema = z.object({
  customerId: z.string(),
  workflowId: z.string().describe('the journey started, running or that already ran'),
  result: z.enum(START_RESULTS),
});

const BulkStartResponseSchema = z.object({
  stage: StartableStageSchema,
  campaignId: z.string(),
  results: z.array(CustomerStartResultSchema),
  counts: z.object({ started: z.number(), alreadyRunning: z.number(), alreadyRan: z.number(), unknownCustomer: z.number() }),
});

const customerJourneyBodySchema = (catalog: CampaignCatalog) => {
  const member = <S extends StartableStage>(stage: S) => z.strictObject({ stage: z.literal(stage), campaignId: campaignIdField(catalog, stage) });
  return z.discriminatedUnion('stage', [member('onboarding'), member('nurture'), member('winback')]);
};

const StartedJourneySchema = z.object({
  workflowId: z.string(),
  runId: z.string().optional(),
  started: z.boolean().describe('false: the journey was already running and nothing new was started'),
  result: z.enum(['started', 'already-running']),
});

/** The campaign a start will use; an unknown one (or one of another stage) is the caller's mistake, naming the field. */
function resolveCampaignId(catalog: CampaignCatalog, stage: Stage, campaignId: string | undefined): string {
  try {
    return campaignFor(catalog, stage, campaignId).definition.id;
  } catch (err) {
    if (err instanceof UserFacingError) throw new InvalidInputError('campaign', [{ path: 'body.campaignId', message: err.message }]);
    throw err;
  }
}

async function startOne(ctx: TriggerContext, stage: Stage, customerId: string, campaignId: string): Promise<z.infer<typeof CustomerStartResultSchema>> {
  const workflowId = journeyWorkflowId(stage, customerId);
  let result: StartResult;
  try {
    const started = await startCustomerJourney(ctx, { stage, customerId, campaignId });
    result = started.started ? 'started' : 'already-running';
  } catch (err) {
    if (err instanceof NotFoundError) result = 'unknown-customer';
    else if (err instanceof ConflictError) result = 'already-ran';
    else throw err;
  }
  return { customerId, workflowId, result };
}

/** Runs `task` over `items`, at most `limit` at a time, keeping the order of `items` in the results. */
async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Marketer endpoints: start stages (for many customers or one), list, inspect and cancel journeys. */
export const campaignRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { ctx } = deps;
  await app.register(marketerAuth, { tokens: deps.config.http.apiTokens, read: 'journeys:read', write: 'journeys:write' });
  await app.register(idempotencyKeys, { store: ctx.store, identity: marketerIdentity });

  // One route per stage rather than /campaigns/:stage/start: each documents its own stage's campaigns.
  for (const stage of STARTABLE_STAGES) {
    app.post(
      `/campaigns/${stage}/start`,
      {
        schema: {
          tags: TAGS,
          summary: `Start ${stage} for customers`,
          description:
            `Up to ${MAX_CUSTOMERS_PER_START} customers, each with its own result; starting twice never makes a second journey. ` +
            'With exactly one customer the status tells the result: 201 started, 200 already running (the existing workflow id), ' +
            '409 the stage already ran and its campaign does not allow re-entry, 404 unknown customer. Complaints start from the support webhook.',
          security: MARKETER_SECURITY,
          body: startBodySchema(ctx.catalog, stage),
          response: {
            200: BulkStartResponseSchema.describe('Per-customer results (several customers), or the journey was already running (one customer)'),
            201: BulkStartResponseSchema.describe('One customer: started'),
            ...errorResponses(404, 409),
          },
        },
      },
      async (request, reply) => {
        const campaignId = resolveCampaignId(ctx.catalog, stage, request.body.campaignId);
        const customerIds = [...new Set(request.body.customerIds)];
        const results = await mapBounded(customerIds, START_CONCURRENCY, (customerId) => startOne(ctx, stage, customerId, campaignId));
        const count = (result: StartResult) => results.filter((r) => r.result === result).length;
        const body = {
          stage,
          campaignId,
          results,
          counts: { started: count('started'), alreadyRunning: count('already-running'), alreadyRan: count('already-ran'), unknownCustomer: count('unknown-customer') },
        };
        const single = results.length === 1 ? results[0] : undefined;
        if (single?.result === 'unknown-customer') throw new NotFoundError(`unknown customer ${single.customerId}`);
        if (single?.result === 'already-ran') {
          throw new ConflictError(`${stage} already ran for customer ${single.customerId} (${single.workflowId}) and campaign re-entry does not allow another run`);
        }
        return reply.code(single?.result === 'started' ? 201 : 200).send(body);
      },
    );
  }

  app.post(
    '/customers/:id/journeys',
    {
      schema: {
        tags: TAGS,
        summary: 'Start a lifecycle stage for one customer',
        description: '201 started; 200 already running (nothing new started, the existing workflow id); 409 already ran and re-entry is not allowed.',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        body: customerJourneyBodySchema(ctx.catalog),
        response: {
          200: StartedJourneySchema.describe('Already running: nothing new started'),
          201: StartedJourneySchema.describe('Started'),
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const { stage } = request.body;
      const campaignId = resolveCampaignId(ctx.catalog, stage, request.body.campaignId);
      const started = await startCustomerJourney(ctx, { stage, customerId: request.params.id, campaignId });
      return reply.code(started.started ? 201 : 200).send({ ...started, result: started.started ? 'started' : 'already-running' });
    },
  );

  app.get(
    '/customers/:id/journeys',
    {
      schema: {
        tags: TAGS,
        summary: "A customer's journeys, newest first",
        description: "From Temporal's visibility store, which trails a start by a moment; running journeys carry their live state.",
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ customerId: z.string(), journeys: z.array(JourneySummarySchema) }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const customerId = request.params.id;
      if (!(await ctx.store.getCustomer(customerId))) throw new NotFoundError(`unknown customer ${customerId}`);
      return { customerId, journeys: await listCustomerJourneys(ctx.client, customerId, request.query.limit) };
    },
  );

  app.get(
    '/journeys/:workflowId',
    {
      schema: {
        tags: TAGS,
        summary: "A journey's live state (journeyState query)",
        description: "409 while the journey is starting (its state is not there yet), or when it ended before it began. 404 for any workflow that is not one of this project's journeys.",
        security: MARKETER_SECURITY,
        params: WorkflowParamsSchema,
        response: { 200: JourneyStateSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const { workflowId } = request.params;
      return journeyState(ctx.client, workflowId);
    },
  );

  app.post(
    '/journeys/:workflowId/cancel',
    {
      schema: {
        tags: TAGS,
        summary: 'Cancel a running journey',
        description: "Requests cancellation; the workflow records how it ended. 409 when the journey is not running; 404 for any workflow that is not one of this project's journeys.",
        security: MARKETER_SECURITY,
        params: WorkflowParamsSchema,
        response: { 202: z.object({ workflowId: z.string(), status: z.string() }), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(await cancelJourney(ctx.client, request.params.workflowId)),
  );
};
