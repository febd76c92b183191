import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CampaignCatalog } from '../../campaigns/catalog';
import { STAGES, type Stage } from '../../shared/campaign-definition';
import { CONSENT_SOURCES, type Channel, type ConsentChange, type CustomerProfile } from '../../store';
import { CustomerIdSchema } from '../customers';
import { InvalidInputError } from '../errors';

/** What every marketer route declares: the bearer API token of the OpenAPI document. */
export const MARKETER_SECURITY = [{ apiToken: [] }];

const IssueSchema = z.object({ path: z.string(), message: z.string() });

/** The body of every 4xx answer (see apiErrorHandler and requireMarketerToken). */
export const ErrorBodySchema = z.object({ error: z.string(), message: z.string(), issues: z.array(IssueSchema).optional() });

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input; `issues` names each bad field',
  401: 'No API token',
  403: 'The API token is not valid',
  404: 'Not found',
  409: 'Conflicts with what already exists',
  413: 'Body too large',
  414: 'A path segment longer than any valid value',
  415: 'Unsupported content type',
  429: 'Too many requests from this client (failed authentication or public pages): retry after `Retry-After` seconds',
} as const;
export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

export function errorDescription(status: ErrorStatus): string {
  return ERROR_DESCRIPTIONS[status];
}

/** Response schemas for the error statuses a route may answer; 400, 401 and 403 are always possible. */
export function errorResponses(...statuses: ErrorStatus[]) {
  const all = [...new Set<ErrorStatus>([400, 401, 403, ...statuses])];
  return Object.fromEntries(all.map((status) => [status, ErrorBodySchema.describe(ERROR_DESCRIPTIONS[status])])) as Record<ErrorStatus, typeof ErrorBodySchema>;
}

/**
 * The campaign field of a start: one of the stage's campaigns in the catalog (loaded once per process), so the
 * OpenAPI document lists what is accepted; left out, the stage's default campaign.
 */
export function campaignIdField(catalog: CampaignCatalog, stage: Stage) {
  const ids = [...catalog.byId.values()].filter((entry) => entry.definition.stage === stage).map((entry) => entry.definition.id);
  const [first, ...rest] = ids;
  const field = first === undefined ? z.never() : z.enum([first, ...rest], { message: `expected a ${stage} campaign: ${ids.join(', ')}` });
  return field.optional().describe(`a ${stage} campaign from CAMPAIGNS_DIR (default: the ${stage} default campaign)`);
}

export const CustomerParamsSchema = z.object({ id: CustomerIdSchema.describe('customer id') });

/** Temporal's default limit on workflow id length is 1000 bytes; journey ids are far shorter. */
export const WorkflowParamsSchema = z.object({
  workflowId: z.string().min(1).max(300).describe('journey (workflow) id, e.g. onboarding-cust-42 or complaint-T-1001'),
});

/** Stages a marketer starts directly; complaints start from the support system's webhook, per ticket. */
export const STARTABLE_STAGES = ['onboarding', 'nurture', 'winback'] as const;
export const StartableStageSchema = z.enum(STARTABLE_STAGES);
export type StartableStage = (typeof STARTABLE_STAGES)[number];

export const CustomerJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  timezone: z.string(),
  locale: z.string(),
  tier: z.string(),
  points: z.number(),
  totalSpend: z.number(),
  preferredChannel: z.enum(['email', 'sms']),
  consentEmail: z.boolean(),
  consentSms: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastActivityAt: z.string(),
});
export type CustomerJson = z.infer<typeof CustomerJsonSchema>;

const ConsentChangeJsonSchema = z
  .object({
    granted: z.boolean(),
    source: z.enum(CONSENT_SOURCES).describe('api (PUT consent), api-event, cli, unsubscribe-link, sms-keyword (STOP/START) or event'),
    evidence: z.string().optional().describe("what shows it: the API token's name, the SMS keyword, number and MessageSid, the link used"),
    at: z.string(),
  })
  .nullable();

/** A profile with the latest consent change per channel (null: only ever set by a profile update or import). */
export const CustomerWithProvenanceSchema = CustomerJsonSchema.extend({
  consentProvenance: z.object({ email: ConsentChangeJsonSchema, sms: ConsentChangeJsonSchema }),
});

export function consentProvenanceJson(latest: Partial<Record<Channel, ConsentChange>>) {
  const json = (change: ConsentChange | undefined) =>
    change ? { granted: change.granted, source: change.source, ...(change.evidence === undefined ? {} : { evidence: change.evidence }), at: change.at.toISOString() } : null;
  return { email: json(latest.email), sms: json(latest.sms) };
}

/** What a consent change made through the API shows as its evidence: the token's name, never the token. */
export function tokenEvidence(request: FastifyRequest): string {
  return `API token "${request.tokenName ?? 'unknown'}"`;
}

export function customerJson(c: CustomerProfile): CustomerJson {
  return { ...c, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString(), lastActivityAt: c.lastActivityAt.toISOString() };
}

export const JourneyStateSchema = z.object({
  stage: z.enum(STAGES),
  customerId: z.string(),
  campaignId: z.string(),
  campaignVersion: z.number(),
  variant: z.string(),
  holdout: z.boolean(),
  currentStep: z.string(),
  nextActionAt: z.number().optional().describe('epoch ms of the next timer the journey waits for'),
  messagesSent: z.number(),
  messagesSkipped: z.number(),
  outcome: z.string().describe('in-progress, converted, completed, unsubscribed, lapsed, resolved, won-back or churned'),
  muted: z.boolean(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).optional()).describe('stage-specific figures'),
});

export const JourneySummarySchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  type: z.string(),
  stage: z.string().optional(),
  campaignId: z.string().optional(),
  status: z.string().describe('Temporal execution status: RUNNING, COMPLETED, CANCELLED, TERMINATED, FAILED, ...'),
  startedAt: z.string(),
  closedAt: z.string().optional(),
  state: JourneyStateSchema.optional().describe('live state, for running journeys'),
});

/**
 * Runs a service call whose input is the request body: its InvalidInputError paths (relative to the input) get
 * the `body.` prefix, like the route schema's own validation errors.
 */
export async function withBodyPaths<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new InvalidInputError(
      'request body',
      err.issues.map((issue) => ({ ...issue, path: issue.path === '(input)' ? 'body' : `body.${issue.path}` })),
    );
  }
}
