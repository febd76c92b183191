import { createHmac } from 'node:crypto';

/** A signed link to answer a survey for one journey; the HTTP API verifies the signature before accepting an answer. */
export function surveyLink(baseUrl: string, secret: string, workflowId: string, survey: string): string {
  const url = new URL('surveys', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('w', workflowId);
  url.searchParams.set('s', survey);
  url.searchParams.set('t', createHmac('sha256', secret).update(`${workflowId}\n${survey}`).digest('base64url'));
  return url.toString();
}
