import { z } from 'zod';
import { LINK_TOKEN_PATTERN } from '../../delivery/link-signature';
import { CHURN_REASON_KEY } from '../../shared/campaign-definition';
import { SURVEY_KINDS } from '../surveys';

/*
 * What the customer-facing links accept and answer, as the OpenAPI document says it. A request that fits these
 * schemas is never refused as malformed (400): a wrong signature is 403, an expired link 410.
 */

const Token = z
  .string()
  .length(43)
  .regex(LINK_TOKEN_PATTERN)
  .describe('the link\'s signature: HMAC-SHA256, base64url without padding (43 characters)');

export const UnsubscribeQuerySchema = z.object({
  c: z.string().min(1).max(200).describe('customer id'),
  ch: z.enum(['email', 'sms']).describe('the channel to unsubscribe from'),
  t: Token.describe(
    'HMAC-SHA256 (base64url, 43 characters) over purpose "unsubscribe", customer id and channel. Links sent before ' +
      'v2 carry one without the purpose: honoured until LEGACY_UNSUBSCRIBE_LINKS_UNTIL, then 410',
  ),
});

export const SurveyQuerySchema = z.object({
  w: z.string().min(1).max(300).describe('journey (workflow) id'),
  r: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).describe('the journey run the link answers (its first execution run id)'),
  s: z.enum(SURVEY_KINDS).describe('survey: csat or churn-reason'),
  e: z
    .string()
    .regex(/^[0-9]{1,12}$/)
    .optional()
    .describe('when the link closes, unix seconds (signed; SURVEY_LINK_VALID_FOR after sending). Links sent before v2 have none and are closed (410)'),
  t: Token.describe('HMAC-SHA256 (base64url, 43 characters) over purpose "survey", workflow id, run id, survey and expiry'),
});

const CsatAnswer = z
  .object({
    rating: z.union([z.int().min(1).max(5), z.string().regex(/^[1-5]$/)]).describe('1 (very unhappy) to 5 (very happy)'),
    comment: z.string().max(2000).optional(),
  })
  .describe('the answer to a csat link');

const ChurnAnswer = z
  .object({
    reason: z
      .string()
      .regex(CHURN_REASON_KEY)
      .describe("a key of the campaign's churnSurvey.reasons (the form lists them); any other key is 400"),
    other: z.string().max(180).optional().describe('free text, kept as the comment of reason `other`; never counted as a reason'),
  })
  .describe('the answer to a churn-reason link');

export const SurveyAnswerBodySchema = z
  .union([CsatAnswer, ChurnAnswer])
  .describe('form fields or JSON; the answer must be the one the link\'s survey (`s`) asks for, or 400');

const PageSchema = z.string().describe('the page (text/html) for people');
const ResultSchema = z.object({ status: z.string(), message: z.string() });
const ErrorSchema = z.object({ error: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });

function page(description: string, json: z.ZodType) {
  return { description, content: { 'text/html': { schema: PageSchema }, 'application/json': { schema: json } } };
}

const ok = (description: string) => page(description, ResultSchema);
const error = (description: string) => page(description, ErrorSchema);

/** Each answer of the link routes: a page, or JSON for a JSON request or `Accept: application/json`. */
const COMMON = {
  400: error('Malformed: a link parameter missing or not in the link format, or (POST) a body that is not an answer; `issues` names each field'),
  403: error('The signature does not match: the link was altered or not made by us'),
  429: error('Too many requests from this client address: retry after `Retry-After` seconds'),
};
const BODY = {
  413: error('Body too large'),
  415: error('Unsupported content type'),
};

export const UNSUBSCRIBE_PAGE_RESPONSES = {
  200: ok('The confirmation page: a button that POSTs to the same link'),
  ...COMMON,
  404: error('No such customer'),
  410: error('An unsubscribe link signed before v2, after its transition ended (LEGACY_UNSUBSCRIBE_LINKS_UNTIL)'),
};

export const UNSUBSCRIBE_RESPONSES = {
  200: ok('Unsubscribed (`status: unsubscribed`); the customer\'s journeys are told now, or from the outbox once Temporal answers again'),
  ...COMMON,
  404: error('No such customer'),
  410: error('An unsubscribe link signed before v2, after its transition ended (LEGACY_UNSUBSCRIBE_LINKS_UNTIL)'),
  ...BODY,
};

export const SURVEY_PAGE_RESPONSES = {
  200: ok('The survey form (`status: open`), or a thank-you when the journey already has the answer (`status: already-recorded`)'),
  ...COMMON,
  404: error('No such journey run'),
  410: error('The survey has closed: the link expired (or was sent before v2), or the run ended without an answer, or the customer entered the stage again'),
};

export const SURVEY_ANSWER_RESPONSES = {
  200: ok('The journey took the answer (`status: recorded`), or already had one (`status: already-recorded`)'),
  202: ok('Temporal did not answer: the answer is kept and reaches the journey when it does (`status: pending`)'),
  ...COMMON,
  400: error('Malformed link or answer, or an answer the link\'s survey does not take (another survey\'s fields, a reason not in the campaign\'s list); `issues` names each field'),
  404: error('No such journey run'),
  409: error('The journey is not waiting for this survey yet'),
  410: error('The survey has closed: the link expired (or was sent before v2), or the run ended without an answer, or the customer entered the stage again'),
  ...BODY,
};
