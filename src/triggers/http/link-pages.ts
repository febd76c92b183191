import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema';
import { ExpiredLinkError, InvalidLinkError } from '../link-errors';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';
import { SurveyClosedError } from '../surveys';

/** Customer-facing pages: small, self-contained (no external assets), every interpolated value escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(brand: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} – ${escapeHtml(brand)}</title>
<style>
body{margin:0;padding:32px 16px;background:#f4f4f7;font-family:Arial,Helvetica,sans-serif;color:#222}
main{max-width:480px;margin:0 auto;background:#fff;border-radius:8px;padding:32px}
h1{font-size:22px;margin:0 0 16px}p{line-height:1.5}
button{font-size:16px;padding:10px 18px;margin:4px;border:0;border-radius:6px;background:#2f6fed;color:#fff;cursor:pointer}
label{display:block;margin:6px 0}textarea,input[type=text]{width:100%;box-sizing:border-box;font-size:15px;padding:8px}
small{color:#888}
</style>
</head>
<body><main>
<p><small>${escapeHtml(brand)}</small></p>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>
`;
}

/** JSON for API clients (a JSON body or Accept: application/json), a page for people. */
function wantsJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  const accept = request.headers.accept ?? '';
  return type.startsWith('application/json') || (accept.includes('application/json') && !accept.includes('text/html'));
}

export interface Answer {
  status: number;
  title: string;
  message: string;
  /** Extra HTML (already escaped) below the message. */
  html?: string;
  /** Machine-readable outcome for JSON clients. */
  result?: string;
  issues?: { path: string; message: string }[];
}

/** Sends `answer` as a page, or as JSON (`{status, message}`, or an error body) to API clients. */
export function send(request: FastifyRequest, reply: FastifyReply, brand: string, answer: Answer) {
  reply.code(answer.status).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  if (wantsJson(request)) {
    const ok = answer.status < 400;
    return reply.send(ok ? { status: answer.result ?? 'ok', message: answer.message } : { error: answer.title, message: answer.message, issues: answer.issues });
  }
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .send(page(brand, answer.title, `<p>${escapeHtml(answer.message)}</p>${answer.html ?? ''}`));
}

const MALFORMED: Answer = { status: 400, title: 'This link is incomplete', message: 'Please use the whole link from our message; it may have been cut off.' };
const FORGED: Answer = { status: 403, title: 'This link is not valid', message: 'Please use the link exactly as it appears in our message.' };
const NOT_FOUND: Answer = { status: 404, title: 'Not found', message: 'We could not find what this link refers to.' };
const SURVEY_CLOSED: Answer = { status: 410, title: 'This survey has closed', message: 'Thank you all the same.' };
const LINK_ENDED: Answer = {
  status: 410,
  title: 'This link has expired',
  message: 'This link is from an older message. Please use the unsubscribe link in a recent message from us, or reply STOP to one of our text messages.',
};
/** An unexpected failure on our side (the database, a bug): the customer is asked to come back, not shown an error body. */
export const OUR_FAULT: Answer = { status: 500, title: 'Something went wrong', message: 'We could not handle this just now. Please try again in a few minutes.' };
const NOT_YET: Answer = { status: 409, title: 'Not yet', message: 'We are not ready for this answer yet. Please try again after your request has been resolved.' };

function badAnswer(issues: { path: string; message: string }[]): Answer {
  return { status: 400, title: 'Please check your answer', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

/** A request the route schema refused: a link cut short or altered (query), or an answer that is not one (body). */
export function invalidRequest(context: string | undefined, validation: FastifySchemaValidationError[]): Answer {
  const issues = validation.map((v) => ({
    path: [context, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.'),
    message: v.message ?? 'invalid',
  }));
  return context === 'body' ? badAnswer(issues) : { ...MALFORMED, issues };
}

/** The service layer's errors as pages (the API's JSON error handler is for API clients; these are people). */
export function failure(err: unknown): Answer | undefined {
  if (err instanceof InvalidLinkError) return FORGED;
  if (err instanceof ExpiredLinkError) return LINK_ENDED;
  if (err instanceof NotFoundError) return NOT_FOUND;
  if (err instanceof InvalidInputError) return badAnswer(err.issues);
  if (err instanceof ConflictError) return NOT_YET;
  if (err instanceof SurveyClosedError) return SURVEY_CLOSED;
  return undefined;
}
