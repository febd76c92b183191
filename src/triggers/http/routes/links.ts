import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InvalidLinkError, isValidUnsubscribe, unsubscribeBySignedLink, type SignedUnsubscribe } from '../../consent';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors';
import {
  CHURN_REASONS,
  isSurveyKind,
  submitSurveyAnswer,
  surveyAvailability,
  SurveyClosedError,
  SurveyUnavailableError,
  verifySurveyToken,
  type SurveyLinkParams,
} from '../../surveys';
import type { ApiDeps } from '../deps';

/** Customer-facing pages: small, self-contained (no external assets), every interpolated value escaped. */
function escapeHtml(value: string): string {
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

interface Answer {
  status: number;
  title: string;
  message: string;
  /** Extra HTML (already escaped) below the message. */
  html?: string;
  /** Machine-readable outcome for JSON clients. */
  result?: string;
  issues?: { path: string; message: string }[];
}

function send(request: FastifyRequest, reply: FastifyReply, brand: string, answer: Answer) {
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

/** The service layer's errors as pages (the API's JSON error handler is for API clients; these are people). */
function failure(err: unknown): Answer | undefined {
  if (err instanceof InvalidLinkError) return FORGED;
  if (err instanceof NotFoundError) return NOT_FOUND;
  if (err instanceof InvalidInputError) {
    return { status: 400, title: 'Please check your answer', message: err.issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues: err.issues };
  }
  if (err instanceof ConflictError) {
    return { status: 409, title: 'Not yet', message: 'We are not ready for this answer yet. Please try again after your request has been resolved.' };
  }
  if (err instanceof SurveyClosedError) return SURVEY_CLOSED;
  if (err instanceof SurveyUnavailableError) {
    return { status: 503, title: 'Please try again', message: 'We could not record your answer just now. Please try again in a minute.' };
  }
  return undefined;
}

const UnsubscribeQuery = z.object({
  c: z.string().optional().describe('customer id'),
  ch: z.string().optional().describe('channel: email or sms'),
  t: z.string().optional().describe('HMAC-SHA256 token over customer and channel'),
});
const SurveyQuery = z.object({
  w: z.string().optional().describe('journey (workflow) id'),
  r: z.string().optional().describe('journey run (first execution run id)'),
  s: z.string().optional().describe('survey: csat or churn-reason'),
  t: z.string().optional().describe('HMAC-SHA256 token over workflow id, run id and survey'),
});


function unsubscribeLink(query: z.infer<typeof UnsubscribeQuery>): SignedUnsubscribe | undefined {
  const { c, ch, t } = query;
  if (!c || !t || (ch !== 'email' && ch !== 'sms')) return undefined;
  return { customerId: c, channel: ch, token: t };
}

function surveyLinkParams(query: z.infer<typeof SurveyQuery>): SurveyLinkParams | undefined {
  const { w, r, s, t } = query;
  if (!w || !r || !t || !isSurveyKind(s)) return undefined;
  return { workflowId: w, runId: r, survey: s, token: t };
}

const CHANNEL_NAMES = { email: 'emails', sms: 'text messages' } as const;

function surveyForm(survey: SurveyLinkParams['survey']): string {
  // No action attribute: the form posts back to this very URL, query string (and its signature) included.
  if (survey === 'csat') {
    const buttons = [1, 2, 3, 4, 5].map((n) => `<button type="submit" name="rating" value="${n}">${n}</button>`).join('');
    return `<form method="post">
<p>1 = very unhappy, 5 = very happy</p>
<label for="comment">Anything you would like to add? (optional)</label>
<textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea>
<p>${buttons}</p>
</form>`;
  }
  const options = CHURN_REASONS.map(
    (r, i) => `<label><input type="radio" name="reason" value="${escapeHtml(r.key)}"${i === 0 ? ' required' : ''}> ${escapeHtml(r.label)}</label>`,
  ).join('\n');
  return `<form method="post">
${options}
<label for="other">Tell us more (optional)</label>
<input type="text" id="other" name="other" maxlength="180">
<p><button type="submit">Send</button></p>
</form>`;
}

const SURVEY_TITLES = { csat: 'How did we do?', 'churn-reason': 'Why did you leave us?' } as const;

/**
 * The links in our messages: one-click unsubscribe (RFC 8058: GET shows a confirmation page, POST unsubscribes
 * with no cookie or further step) and survey answers. Each link carries an HMAC over what it names, checked
 * before anything is looked up.
 */
export const linkRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { config, ctx } = deps;
  const secret = config.linkSigningSecret;
  const brand = config.brandName;

  // RFC 8058 allows multipart/form-data for the one-click POST; its body carries nothing the link does not, so
  // read it as text (scoped to these routes) instead of refusing it.
  app.addContentTypeParser(['multipart/form-data', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, { text: body }));

  app.get(
    '/unsubscribe',
    {
      schema: {
        summary: 'Unsubscribe confirmation page',
        description: 'Shows a button that POSTs to the same link. Looking at the page changes nothing (mail scanners follow links).',
        tags: ['links'],
        querystring: UnsubscribeQuery,
        produces: ['text/html'],
      },
    },
    async (request, reply) => {
      const link = unsubscribeLink(request.query);
      if (!link) return send(request, reply, brand, MALFORMED);
      if (!isValidUnsubscribe(secret, link)) return send(request, reply, brand, FORGED);
      if (!(await ctx.store.getCustomer(link.customerId))) return send(request, reply, brand, NOT_FOUND);
      return send(request, reply, brand, {
        status: 200,
        title: 'Unsubscribe',
        message: `Stop receiving ${CHANNEL_NAMES[link.channel]} from ${brand}?`,
        html: `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      });
    },
  );

  app.post(
    '/unsubscribe',
    {
      schema: {
        summary: 'One-click unsubscribe (RFC 8058)',
        description: 'Body `List-Unsubscribe=One-Click` (form encoded; not required). Withdraws consent for the link\'s channel and tells running journeys. 403 for a forged link, 404 for an unknown customer.',
        tags: ['links'],
        querystring: UnsubscribeQuery,
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
        produces: ['text/html'],
      },
    },
    async (request, reply) => {
      const link = unsubscribeLink(request.query);
      if (!link) return send(request, reply, brand, MALFORMED);
      try {
        const done = await unsubscribeBySignedLink(ctx, secret, link);
        return send(request, reply, brand, {
          status: 200,
          title: 'You are unsubscribed',
          message: `You will get no more ${CHANNEL_NAMES[done.channel]} from ${brand}.`,
          result: 'unsubscribed',
        });
      } catch (err) {
        const answer = failure(err);
        if (!answer) throw err;
        return send(request, reply, brand, answer);
      }
    },
  );

  app.get(
    '/surveys',
    {
      schema: {
        summary: 'Survey page',
        description: 'The CSAT (1-5) or churn-reason form of a journey; 410 when the journey ended without an answer.',
        tags: ['links'],
        querystring: SurveyQuery,
        produces: ['text/html'],
      },
    },
    async (request, reply) => {
      const link = surveyLinkParams(request.query);
      if (!link) return send(request, reply, brand, MALFORMED);
      if (!verifySurveyToken(secret, link)) return send(request, reply, brand, FORGED);
      try {
        const availability = await surveyAvailability(ctx, link);
        if (availability === 'answered') {
          return send(request, reply, brand, { status: 200, title: 'Thank you', message: 'We already have your answer.', result: 'already-recorded' });
        }
        if (availability === 'closed') return send(request, reply, brand, SURVEY_CLOSED);
        return send(request, reply, brand, { status: 200, title: SURVEY_TITLES[link.survey], message: 'One question, ten seconds.', html: surveyForm(link.survey), result: 'open' });
      } catch (err) {
        const answer = failure(err);
        if (!answer) throw err;
        return send(request, reply, brand, answer);
      }
    },
  );

  app.post(
    '/surveys',
    {
      schema: {
        summary: 'Answer a survey',
        description:
          'Form or JSON: `rating` (1-5) and optional `comment` for csat; `reason` (and optional `other`) for churn-reason. 200 when recorded, and also when the journey already had an answer (a second click); 400 bad answer; 403 forged link; 404 no such journey; 409 the journey is not waiting for this survey yet; 410 the journey ended without an answer; 503 the journey could not take it now.',
        tags: ['links'],
        querystring: SurveyQuery,
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        produces: ['text/html', 'application/json'],
      },
    },
    async (request, reply) => {
      const link = surveyLinkParams(request.query);
      if (!link) return send(request, reply, brand, MALFORMED);
      try {
        const submission = await submitSurveyAnswer(ctx, secret, link, request.body);
        const message = submission.status === 'recorded' ? 'Your answer has been recorded.' : 'We already have your answer.';
        return send(request, reply, brand, { status: 200, title: 'Thank you', message, result: submission.status });
      } catch (err) {
        const answer = failure(err);
        if (!answer) throw err;
        return send(request, reply, brand, answer);
      }
    },
  );
};
