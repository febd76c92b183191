import { createHmac } from 'node:crypto';

/** The journey run a survey link answers: an answer through it never reaches another run of the stage. */
export interface SurveyTarget {
  workflowId: string;
  /** First execution run id of the journey run. */
  runId: string;
}

/** The signature of a survey link: HMAC-SHA256 over workflow id, run id and survey. */
export function surveyMac(secret: string, target: SurveyTarget, survey: string): Buffer {
  return createHmac('sha256', secret).update(`${target.workflowId}\n${target.runId}\n${survey}`).digest();
}

/** A signed link to answer a survey for one journey run; the HTTP API verifies the signature before accepting an answer. */
export function surveyLink(baseUrl: string, secret: string, target: SurveyTarget, survey: string): string {
  const url = new URL('surveys', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('w', target.workflowId);
  url.searchParams.set('r', target.runId);
  url.searchParams.set('s', survey);
  url.searchParams.set('t', surveyMac(secret, target, survey).toString('base64url'));
  return url.toString();
}
