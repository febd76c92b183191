import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SurveyTarget } from '../delivery/survey-token';
import type { JourneyState } from '../shared/journey-types';
import { journeyStateQuery, submitSurveyUpdate, type SurveyAnswer } from '../shared/messages';
import type { TriggerContext } from './context';
import { ConflictError, NotFoundError } from './errors';

export type SurveyKind = SurveyAnswer['survey'];

/** Thrown when the journey run has ended without this answer, or its link has: the survey is over (HTTP 410). */
export class SurveyClosedError extends Error {
  override name = 'SurveyClosedError';
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
 * Where the survey of a journey run stands: `open` while the run runs without the answer, `answered` once it has it,
 * `closed` when the run ended without it (or the customer has entered the stage again since: a link answers only its
 * own run). NotFoundError when there is no such journey; Temporal's own failures are thrown as they are.
 */
export async function surveyAvailability(ctx: Pick<TriggerContext, 'client'>, target: SurveyTarget, survey: SurveyKind): Promise<SurveyAvailability> {
  const handle = ctx.client.workflow.getHandle(target.workflowId);
  let running: boolean;
  try {
    const description = await handle.describe();
    if (description.raw.workflowExecutionInfo?.firstRunId !== target.runId) return 'closed';
    running = description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no journey ${target.workflowId}`);
    throw err;
  }
  // A closed journey answers queries only while a worker can replay it; without one, treat it as unanswered.
  const state = await handle.query(journeyStateQuery).catch(() => undefined);
  if (hasAnswer(state, survey)) return 'answered';
  return running ? 'open' : 'closed';
}

/**
 * Hands the answer to the journey run with the validated update (the journey refuses it unless that very run waits
 * for this survey and can take the answer). `recorded`: the journey took it; `already-recorded`: it had an answer
 * before (a second click, or a redelivery). ConflictError when the run is running but not waiting for it;
 * SurveyClosedError when the run ended without it or is not the journey's current run; NotFoundError for no journey.
 */
export async function deliverSurveyAnswer(
  ctx: Pick<TriggerContext, 'client'>,
  target: SurveyTarget,
  answer: SurveyAnswer,
): Promise<'recorded' | 'already-recorded'> {
  const handle = ctx.client.workflow.getHandle(target.workflowId);
  let refusal: string | undefined;
  try {
    await handle.executeUpdate(submitSurveyUpdate, { args: [answer, { runId: target.runId }] });
    return 'recorded';
  } catch (err) {
    // A refused update (not waiting for this survey, another run) and a closed workflow (NOT_FOUND) both land here.
    if (!(err instanceof WorkflowUpdateFailedError) && !(err instanceof WorkflowNotFoundError)) throw err;
    refusal = err instanceof WorkflowUpdateFailedError && err.cause instanceof Error ? err.cause.message : undefined;
  }
  const availability = await surveyAvailability(ctx, target, answer.survey);
  if (availability === 'answered') return 'already-recorded';
  if (availability === 'closed') throw new SurveyClosedError(`the ${answer.survey} survey of ${target.workflowId} has closed`);
  throw new ConflictError(refusal ?? `journey ${target.workflowId} is not waiting for a ${answer.survey} answer`);
}
