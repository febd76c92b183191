import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { checkUnsubscribePage, unsubscribeBySignedLink, type SignedUnsubscribe } from '../../consent';
import { surveyPage, submitSurveyAnswer, type ChurnReason, type SurveyLinkParams } from '../../surveys';
import type { ApiDeps } from '../deps';
import { escapeHtml, failure, invalidRequest, OUR_FAULT, send, type Answer } from '../link-pages';
import {
  SURVEY_ANSWER_RESPONSES,
  SURVEY_PAGE_RESPONSES,
  SurveyAnswerBodySchema,
  SurveyQuerySchema,
  UNSUBSCRIBE_PAGE_RESPONSES,
  UNSUBSCRIBE_RESPONSES,
  UnsubscribeQuerySchema,
} from '../link-schemas';
import { limitPublicLinks } from '../rate-limits';
import { withBodyPaths } from '../schemas';

function unsubscribeLink(query: z.infer<typeof UnsubscribeQuerySchema>): SignedUnsubscribe {
  return { customerId: query.c, channel: query.ch, token: query.t };
}

function surveyLinkParams(query: z.infer<typeof SurveyQuerySchema>): SurveyLinkParams {
  return { workflowId: query.w, runId: query.r, survey: query.s, expiresAt: query.e === undefined ? undefined : Number(query.e), token: query.t };
}

const CHANNEL_NAMES = { email: 'emails', sms: 'text messages' } as const;

function surveyForm(survey: SurveyLinkParams['survey'], reasons: ChurnReason[]): string {
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
  const options = reasons
    .map((r, i) => `<label><input type="radio" name="reason" value="${escapeHtml(r.key)}"${i === 0 ? ' required' : ''}> ${escapeHtml(r.label)}</label>`)
    .join('\n');
  const other = reasons.some((r) => r.key === 'other')
    ? `\n<label for="other">Tell us more (optional)</label>\n<input type="text" id="other" name="other" maxlength="180">`
    : '';
  return `<form method="post">
${options}${other}
<p><button type="submit">Send</button></p>
</form>`;
}

const SURVEY_TITLES = { csat: 'How did we do?', 'churn-reason': 'Why did you leave us?' } as const;

/**
 * The links in our messages: one-click unsubscribe (RFC 8058: GET shows a confirmation page, POST unsubscribes
 * with no cookie or further step) and survey answers. Each link carries an HMAC over its purpose and what it names,
 * checked before anything is looked up. A link the schema refuses is answered with a page too (attachValidation).
 */
export const linkRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { config, ctx } = deps;
  const secret = config.linkSigningSecret;
  const unsubscribePolicy = { secret, legacyUntil: config.links.legacyUnsubscribeUntil };
  const brand = config.brandName;
  const now = deps.now ?? (() => new Date());

  /** The page for what the service layer threw; a fault of ours is logged and still a page, never a JSON 500. */
  const answerFailure = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const answer = failure(err);
    if (answer) return send(request, reply, brand, answer);
    request.log.error({ err }, 'link request failed');
    return send(request, reply, brand, OUR_FAULT);
  };
  /** A request the route schema refused (attachValidation) gets a page too, instead of the API's JSON 400. */
  const refusedBySchema = (request: FastifyRequest, reply: FastifyReply) => {
    const error = request.validationError;
    if (!error) return undefined;
    const validation: FastifySchemaValidationError[] = Array.isArray(error.validation) ? error.validation : [];
    return send(request, reply, brand, invalidRequest(error.validationContext, validation));
  };

  // RFC 8058 allows multipart/form-data for the one-click POST; its body carries nothing the link does not, so
  // read it as text (scoped to these routes) instead of refusing it.
  app.addContentTypeParser(['multipart/form-data', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, { text: body }));
  limitPublicLinks(app, config.http.rateLimits.links, (request, reply, answer) => send(request, reply, brand, answer));

  app.get(
    '/unsubscribe',
    {
      attachValidation: true,
      schema: {
        summary: 'Unsubscribe confirmation page',
        description: 'Shows a button that POSTs to the same link. Looking at the page changes nothing (mail scanners follow links).',
        tags: ['links'],
        querystring: UnsubscribeQuerySchema,
        produces: ['text/html', 'application/json'],
        response: UNSUBSCRIBE_PAGE_RESPONSES,
      },
    },
    async (request, reply) => {
      const refused = refusedBySchema(request, reply);
      if (refused) return refused;
      const link = unsubscribeLink(request.query);
      try {
        await checkUnsubscribePage(ctx, unsubscribePolicy, link, now());
      } catch (err) {
        return answerFailure(request, reply, err);
      }
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
      attachValidation: true,
      schema: {
        summary: 'One-click unsubscribe (RFC 8058)',
        description:
          'Body `List-Unsubscribe=One-Click` (form encoded; not required). Withdraws consent for the link\'s channel at once and tells the ' +
          'customer\'s running journeys; when Temporal does not answer, the signal is kept and delivered by the API instances later.',
        tags: ['links'],
        querystring: UnsubscribeQuerySchema,
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
        produces: ['text/html', 'application/json'],
        response: UNSUBSCRIBE_RESPONSES,
      },
    },
    async (request, reply) => {
      const refused = refusedBySchema(request, reply);
      if (refused) return refused;
      try {
        const done = await unsubscribeBySignedLink(ctx, unsubscribePolicy, unsubscribeLink(request.query), now());
        const answer: Answer = {
          status: 200,
          title: 'You are unsubscribed',
          message: `We've recorded your choice: you will get no more ${CHANNEL_NAMES[done.channel]} from ${brand}.`,
          result: 'unsubscribed',
        };
        return send(request, reply, brand, answer);
      } catch (err) {
        return answerFailure(request, reply, err);
      }
    },
  );

  app.get(
    '/surveys',
    {
      attachValidation: true,
      schema: {
        summary: 'Survey page',
        description: 'The CSAT (1-5) or churn-reason form of a journey run; 410 once the link expired or the run ended without an answer.',
        tags: ['links'],
        querystring: SurveyQuerySchema,
        produces: ['text/html', 'application/json'],
        response: SURVEY_PAGE_RESPONSES,
      },
    },
    async (request, reply) => {
      const refused = refusedBySchema(request, reply);
      if (refused) return refused;
      const link = surveyLinkParams(request.query);
      try {
        const { availability, reasons } = await surveyPage(ctx, secret, link, now());
        if (availability === 'answered') {
          return send(request, reply, brand, { status: 200, title: 'Thank you', message: 'We already have your answer.', result: 'already-recorded' });
        }
        return send(request, reply, brand, { status: 200, title: SURVEY_TITLES[link.survey], message: 'One question, ten seconds.', html: surveyForm(link.survey, reasons), result: 'open' });
      } catch (err) {
        return answerFailure(request, reply, err);
      }
    },
  );

  app.post(
    '/surveys',
    {
      attachValidation: true,
      schema: {
        summary: 'Answer a survey',
        description:
          'Form or JSON: `rating` (1-5) and optional `comment` for csat; `reason` (a key of the campaign\'s list) and optional `other` for ' +
          'churn-reason. The answer goes to the journey run the link names; when Temporal does not answer it is kept and delivered later (202).',
        tags: ['links'],
        querystring: SurveyQuerySchema,
        body: SurveyAnswerBodySchema,
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        produces: ['text/html', 'application/json'],
        response: SURVEY_ANSWER_RESPONSES,
      },
    },
    async (request, reply) => {
      const refused = refusedBySchema(request, reply);
      if (refused) return refused;
      try {
        const submission = await withBodyPaths(() => submitSurveyAnswer(ctx, secret, surveyLinkParams(request.query), request.body, now()));
        if (submission.status === 'kept') {
          return send(request, reply, brand, { status: 202, title: 'Thank you', message: "We've recorded your answer.", result: 'pending' });
        }
        const message = submission.status === 'recorded' ? 'Your answer has been recorded.' : 'We already have your answer.';
        return send(request, reply, brand, { status: 200, title: 'Thank you', message, result: submission.status });
      } catch (err) {
        return answerFailure(request, reply, err);
      }
    },
  );
};
