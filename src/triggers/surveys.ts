import { z } from 'zod';
import { surveyTokenFormat, type SurveyLinkFields, type SurveyTarget } from '../delivery/survey-token';
import { DEFAULT_CHURN_REASONS } from '../shared/campaign-definition';
import { messageSchemas, type SurveyAnswer } from '../shared/messages';
import type { TriggerContext } from './context';
import { NotFoundError, parseInput } from './errors';
import { InvalidLinkError } from './link-errors';
import { deliverOrKeep } from './pending-signals';
import { SurveyClosedError, surveyAvailability, type SurveyAvailability, type SurveyKind } from './survey-delivery';
import { isTemporalUnavailable } from './temporal-unavailable';

export { SurveyClosedError, type SurveyKind } from './survey-delivery';

export const SURVEY_KINDS = ['csat', 'churn-reason'] as const satisfies readonly SurveyKind[];

/** A survey link as the API reads it from the query string. */
export type SurveyLinkParams = SurveyLinkFields;

export interface ChurnReason {
  key: string;
  label: string;
}

/**
 * Whether a survey link may be used now: `valid`, `closed` (its expiry has passed, or it was signed before v2 and
 * carries none: those are refused, HTTP 410) or `forged` (HTTP 403).
 */
export function checkSurveyLink(secret: string, link: SurveyLinkParams, now: Date = new Date()): 'valid' | 'closed' | 'forged' {
  const format = surveyTokenFormat(secret, link);
  if (format === 'invalid') return 'forged';
  if (format === 'legacy') return 'closed';
  return (link.expiresAt as number) * 1000 > now.getTime() ? 'valid' : 'closed';
}

function requireOpenLink(secret: string, link: SurveyLinkParams, now: Date): void {
  const check = checkSurveyLink(secret, link, now);
  if (check === 'forged') throw new InvalidLinkError('the survey link is not valid');
  if (check === 'closed') throw new SurveyClosedError(`the ${link.survey} survey link of ${link.workflowId} has closed`);
}

/**
 * The `entered` fact of the link's journey run: the store knows every run by it, so a link is matched to its run
 * (and campaign) without asking Temporal. NotFoundError when there is no such run.
 */
async function runEntry(ctx: Pick<TriggerContext, 'store'>, target: SurveyTarget) {
  const entries = await ctx.store.listOutcomes({ workflowId: target.workflowId, status: 'entered' });
  const entry = entries.find((o) => o.factKey === `${target.workflowId}/${target.runId}/entered`);
  if (!entry) throw new NotFoundError(`no journey run ${target.workflowId}/${target.runId}`);
  return entry;
}

/** The churn reasons a campaign offers, as the catalog has it now (the journey checks its own copy again). */
function churnReasonsOf(ctx: Pick<TriggerContext, 'catalog'>, campaignId: string): ChurnReason[] {
  const definition = ctx.catalog.byId.get(campaignId)?.definition;
  return definition?.stage === 'winback' ? definition.churnSurvey.reasons : DEFAULT_CHURN_REASONS;
}

const CsatFields = z.object({
  rating: z.coerce.number({ message: 'expected a rating from 1 to 5' }).int('expected a whole number from 1 to 5').min(1, 'expected a rating from 1 to 5').max(5, 'expected a rating from 1 to 5'),
  comment: z
    .string()
    .trim()
    .max(2000)
    .optional()
    .transform((v) => v || undefined),
});

function churnFields(reasons: ChurnReason[]) {
  const keys = reasons.map((r) => r.key);
  return z
    .object({
      reason: z.string({ message: 'expected a reason' }).refine((v) => keys.includes(v), `expected one of ${keys.join(', ')}`),
      other: z.string().trim().max(180).optional(),
    })
    .transform(({ reason, other }) => ({ reason, comment: reason === 'other' && other ? other : undefined }));
}

/**
 * The answer as the journey takes it, from form fields or JSON (`rating` + `comment`, or `reason` + `other`). A churn
 * reason must be one of `reasons`; free text goes only into the comment of reason `other`. InvalidInputError names
 * the bad field.
 */
export function surveyAnswerFrom(survey: SurveyKind, fields: unknown, reasons: ChurnReason[] = DEFAULT_CHURN_REASONS): SurveyAnswer {
  const input = fields && typeof fields === 'object' ? fields : {};
  const answer =
    survey === 'csat'
      ? { survey, ...parseInput(CsatFields, input, 'survey answer') }
      : { survey, ...parseInput(churnFields(reasons), input, 'survey answer') };
  return parseInput(messageSchemas().surveyAnswer, answer, 'survey answer');
}

export interface SurveyPage {
  /** `open` also when Temporal cannot be asked now: the answer will be kept and delivered later. */
  availability: SurveyAvailability;
  reasons: ChurnReason[];
}

/**
 * What the page of a survey link shows: the form while the journey run waits for it, a thank-you once answered.
 * InvalidLinkError for a forged link, SurveyClosedError for a closed link or survey, NotFoundError for no such run.
 */
export async function surveyPage(ctx: TriggerContext, secret: string, link: SurveyLinkParams, now: Date = new Date()): Promise<SurveyPage> {
  requireOpenLink(secret, link, now);
  const reasons = churnReasonsOf(ctx, (await runEntry(ctx, link)).campaignId);
  let availability: SurveyAvailability;
  try {
    availability = await ctx.client.withDeadline(Date.now() + 5_000, () => surveyAvailability(ctx, link, link.survey));
  } catch (err) {
    if (!isTemporalUnavailable(err)) throw err;
    availability = 'open';
  }
  if (availability === 'closed') throw new SurveyClosedError(`the ${link.survey} survey of ${link.workflowId} has closed`);
  return { availability, reasons };
}

export interface SurveySubmission {
  /**
   * `recorded`: the journey took this answer; `already-recorded`: it had an answer before (a second click); `kept`:
   * Temporal did not answer, so the answer waits in the outbox and reaches the journey when Temporal is back.
   */
  status: 'recorded' | 'already-recorded' | 'kept';
  workflowId: string;
  answer: SurveyAnswer;
}

/**
 * Checks the link (signature, expiry, run), then the answer against the run's survey, then hands it to the journey
 * run, or keeps it for later when Temporal does not answer. Throws: InvalidLinkError (forged link),
 * SurveyClosedError (link expired or legacy, or the run ended without an answer), NotFoundError (no such run),
 * InvalidInputError (bad answer), ConflictError (the run is not waiting for this survey).
 */
export async function submitSurveyAnswer(ctx: TriggerContext, secret: string, link: SurveyLinkParams, fields: unknown, now: Date = new Date()): Promise<SurveySubmission> {
  requireOpenLink(secret, link, now);
  const entry = await runEntry(ctx, link);
  const answer = surveyAnswerFrom(link.survey, fields, churnReasonsOf(ctx, entry.campaignId));
  const delivery = await deliverOrKeep(ctx, { kind: 'survey-answer', workflowId: link.workflowId, runId: link.runId, answer });
  const status = delivery.status === 'kept' ? 'kept' : delivery.result === 'already-recorded' ? 'already-recorded' : 'recorded';
  return { status, workflowId: link.workflowId, answer };
}
