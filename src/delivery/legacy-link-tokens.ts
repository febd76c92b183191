import { hmac, tokenMatches } from './link-signature';

/*
 * Tokens of links sent before link tokens named their purpose (and survey links their expiry): an HMAC over the
 * fields joined by line breaks. Messages in customers' inboxes still carry them. They are recognised so that an old
 * unsubscribe link keeps working for its transition (LEGACY_UNSUBSCRIBE_LINKS_UNTIL) and an old survey link gets a
 * plain "closed" page rather than "not valid". Nothing signs them any more.
 */

/** An unsubscribe token as signed before v2: HMAC of "<customer>\n<channel>". */
export function isLegacyUnsubscribeToken(secret: string, customerId: string, channel: string, token: string): boolean {
  return Boolean(secret) && tokenMatches(hmac(secret, `${customerId}\n${channel}`), token);
}

/** A survey token as signed before v2: HMAC of "<workflow>\n<run>\n<survey>", no expiry. */
export function isLegacySurveyToken(secret: string, workflowId: string, runId: string, survey: string, token: string): boolean {
  return Boolean(secret) && tokenMatches(hmac(secret, `${workflowId}\n${runId}\n${survey}`), token);
}
