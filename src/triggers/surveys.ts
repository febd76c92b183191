import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { z } from 'zod';
import { surveyMac, type SurveyTarget } from '../activities/links';
import type { JourneyState } from '../shared/journey-types';
import { journeyStateQuery, messageSchemas, submitSurveyUpdate, type SurveyAnswer } from '../shared/messages';
import { InvalidLinkError } from './consent';
import type { TriggerContext } from './context';
import { ConflictError, NotFoundError, parseInput } from './errors';

export type SurveyKind = SurveyAnswer['survey'];
export const SURVEY_KINDS: readonly SurveyKind[] = ['csat', 'churn-reason'];

export function isSurveyKind(value: unknown): value is SurveyKind {
  return typeof value === 'string' && (SURVEY_KINDS as readonly string[]).includes(value);
}

/** The reasons the churn survey offers (the answer is stored as the key, or "other: <text>"). */
export const CHURN_REASONS = [
  { key: 'too-expensive', label: 'It got too expensive' },
  { key: 'found-alternative', label: 'I found a better alternative' },
  { key: 'no-longer-needed', label: "I don't need it any more" },
  { key: 'quality', label: 'Product quality' },
  { key: 'service', label: 'Customer service' },
  { key: 'other', label: 'Something else' },
] as const;

/** Constant-time check of the token of a survey link (signed by surveyLink() in src/activities/links.ts). */
export function verifySurveyToken(secret: string, link: SurveyLinkParams): boolean {
  if (!secret || !/^[A-Za-z0-9_-]+$/.test(link.token)) return false;
  const expected = surveyMac(secret, link, link.survey);
  const given = Buffer.from(link.token, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface SurveyLinkParams extends SurveyTarget {
  survey: SurveyKind;
  token: string;
}

/** Thrown when the journey has ended without this answer: the survey is over (HTTP 410). */
export class SurveyClosedError extends Error {
  override name = 'SurveyClosedError';
}

/** Thrown when the journey did not take the answer in time (no worker reachable): try again later (HTTP 503). */
export class SurveyUnavailableError extends Error {
  override name = 'SurveyUnavailableError';
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

const ChurnFields = z
  .object({
    reason: z.string({ message: 'expected a reason' }).trim().min(1, 'expected a reason').max(200),
    other: z.string().trim().max(180).optional(),
  })
  .transform(({ reason, other }) => (reason === 'other' && other ? `other: ${other}` : reason));

/** The answer as the journey takes it, from form fields or JSON (`rating` + `comment`, or `reason` + `other`). */
export function surveyAnswerFrom(survey: SurveyKind, fields: unknown): SurveyAnswer {
  const input = fields && typeof fields === 'object' ? fields : {};
  const answer =
    survey === 'csat'
      ? { survey, ...parseInput(CsatFields, input, 'survey answer') }
      : { survey, reason: parseInput(ChurnFields, input, 'survey answer') };
  return parseInput(messageSchemas().surveyAnswer, answer, 'survey answer');
}

export type SurveyAvailability = 'open' | 'answered' | 'closed';

/** Whether the journey has this survey's answer already (the stage records it in its state details). */
function hasAnswer(state: JourneyState | undefined, survey: SurveyKind): boolean {
  if (!state) return false;
  if (survey === 'csat') return state.details.csat !== undefined;
  const reason = state.details.churnReason;
  return reason !== undefined && reason !== 'no-answer';
}

/**
 * Where the survey of a (verified) link stands: `open` while the journey run runs without the answer, `answered`
 * once it has it, `closed` when the run ended without it (or the customer has entered the stage again since: a
 * link answers only its own run). NotFoundError when there is no such journey.
 */
export async function surveyAvailability(ctx: Pick<TriggerContext, 'client'>, link: Omit<SurveyLinkParams, 'token'>): Promise<SurveyAvailability> {
  const handle = ctx.client.workflow.getHandle(link.workflowId);
  let running: boolean;
  try {
    const description = await handle.describe();
    if (description.raw.workflowExecutionInfo?.firstRunId !== link.runId) return 'closed';
    running = description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${link.workflowId}`);
    throw err;
  }
  // A closed journey answers queries only while a worker can replay it; without one, treat it as unanswered.
  const state = await handle.query(journeyStateQuery).catch(() => undefined);
  if (hasAnswer(state, link.survey)) return 'answered';
  return running ? 'open' : 'closed';
}

export interface SurveySubmission {
  /** `recorded`: the journey took this answer; `already-recorded`: it had an answer before (a second click). */
  status: 'recorded' | 'already-recorded';
  workflowId: string;
  answer: SurveyAnswer;
}

/**
 * Verifies the link, then hands the answer to the journey with the validated update (the journey refuses it
 * unless it is waiting for this survey). Outcomes: the answer is recorded; it was already recorded (a repeated
 * submission is not an error for the customer); ConflictError when the journey runs but is not waiting for
 * it (asked too early); SurveyClosedError when the journey ended without it; NotFoundError for no journey;
 * InvalidLinkError for a forged link; InvalidInputError for a bad answer.
 */
export async function submitSurveyAnswer(
  ctx: Pick<TriggerContext, 'client'>,
  secret: string,
  link: SurveyLinkParams,
  fields: unknown,
  options: { timeoutMs?: number } = {},
): Promise<SurveySubmission> {
  if (!verifySurveyToken(secret, link)) throw new InvalidLinkError('the survey link is not valid');
  const answer = surveyAnswerFrom(link.survey, fields);
  const handle = ctx.client.workflow.getHandle(link.workflowId);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  try {
    await ctx.client.withDeadline(deadline, () => handle.executeUpdate(submitSurveyUpdate, { args: [answer, { runId: link.runId }] }));
    return { status: 'recorded', workflowId: link.workflowId, answer };
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new SurveyUnavailableError('the journey did not take the answer in time; try again shortly');
    }
    // A refused update (not waiting for this survey) and a closed workflow (NOT_FOUND) both land here.
    if (!(err instanceof WorkflowUpdateFailedError) && !(err instanceof WorkflowNotFoundError)) throw err;
  }
  const availability = await surveyAvailability(ctx, link);
  if (availability === 'answered') return { status: 'already-recorded', workflowId: link.workflowId, answer };
  if (availability === 'closed') throw new SurveyClosedError(`the ${link.survey} survey of ${link.workflowId} has closed`);
  throw new ConflictError(`journey ${link.workflowId} is not waiting for a ${link.survey} answer`);
}
