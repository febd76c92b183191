import { isLegacySurveyToken } from './legacy-link-tokens';
import { linkUrl, signLink, verifyLink } from './link-signature';
import type { TokenFormat } from './unsubscribe-token';

export type SurveyKind = 'csat' | 'churn-reason';

/** The journey run a survey link answers: an answer through it never reaches another run of the stage. */
export interface SurveyTarget {
  workflowId: string;
  /** First execution run id of the journey run (the same across continue-as-new and reset, new on re-entry). */
  runId: string;
}

/** What a survey link names, as read back from it. */
export interface SurveyLinkFields extends SurveyTarget {
  survey: SurveyKind;
  /** Unix seconds after which the link is closed; absent on links sent before v2. */
  expiresAt?: number;
  token: string;
}

function fields(target: SurveyTarget, survey: SurveyKind, expiresAt: number): string[] {
  return [target.workflowId, target.runId, survey, String(expiresAt)];
}

/**
 * A signed link to answer `survey` for one journey run until `expiresAt`:
 * `<base>/surveys?w=<workflow>&r=<run>&s=<survey>&e=<unix seconds>&t=<HMAC over purpose "survey" and those four>`.
 */
export function surveyLink(baseUrl: string, secret: string, target: SurveyTarget, survey: SurveyKind, expiresAt: Date): string {
  const e = Math.floor(expiresAt.getTime() / 1000);
  return linkUrl(baseUrl, 'surveys', [
    ['w', target.workflowId],
    ['r', target.runId],
    ['s', survey],
    ['e', String(e)],
    ['t', signLink(secret, 'survey', fields(target, survey, e))],
  ]);
}

/** Constant-time check of a survey link's token; a link without an expiry can only be legacy. */
export function surveyTokenFormat(secret: string, link: SurveyLinkFields): TokenFormat {
  if (link.expiresAt !== undefined) return verifyLink(secret, 'survey', fields(link, link.survey, link.expiresAt), link.token) ? 'current' : 'invalid';
  return isLegacySurveyToken(secret, link.workflowId, link.runId, link.survey, link.token) ? 'legacy' : 'invalid';
}
