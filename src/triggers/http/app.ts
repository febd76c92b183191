import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { API_TOKEN_SECURITY_SCHEME } from './auth';
import type { ApiDeps } from './deps';
import { answerMethodNotAllowed, documentFrameworkStatuses, MAX_PARAM_LENGTH, routeSchemaTransform, withOperationLinks, withoutBodiesWhereNone } from './contract';
import { apiErrorHandler } from './errors';
import { loggedRequest } from './log-redaction';
import { REPORT_SESSION_SECURITY_SCHEME } from './report-session';
import { sharedRateLimitStore } from './rate-limit-store';
import { limitingFailedAuthentication } from './rate-limits';
import { campaignRoutes } from './routes/campaigns';
import { complaintRoutes } from './routes/complaints';
import { customerRoutes } from './routes/customers';
import { eventRoutes } from './routes/events';
import { linkRoutes } from './routes/links';
import { reportRoutes } from './routes/reports';
import { twilioRoutes } from './routes/twilio';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body exactly as received, for signatures computed over the raw bytes (support webhooks). */
    rawBody?: string;
  }
}

export type ApiApp = FastifyInstance;

/**
 * The HTTP API: marketer endpoints (customers, events, campaigns, reports; API token), the support system's
 * signed complaint webhooks, Twilio's signed webhooks, and the customer-facing signed links (unsubscribe, surveys).
 * Every route validates with zod and is described in the OpenAPI document at GET /openapi.json.
 */
export async function buildApp(deps: ApiDeps, options: Pick<FastifyServerOptions, 'logger'> = {}): Promise<ApiApp> {
  // An object logger gets the redacting request serializer: no API token or link signature in a log line.
  const given = options.logger === true ? {} : options.logger;
  const logger = typeof given === 'object' && given !== null ? { ...given, serializers: { req: loggedRequest } } : (given ?? false);
  const app = Fastify({ logger, trustProxy: (_address, hop) => hop < deps.config.http.trustProxyHops, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(apiErrorHandler);

  // `__proto__` and `constructor.prototype` keys are dropped (no prototype pollution), not a 400 for valid JSON.
  const parseJson = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    request.rawBody = text;
    parseJson(request, text, done);
  });
  await app.register(formbody);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Retention Orchestrator API', version: '1.0.0', description: 'Start and steer retention campaigns; webhooks for support systems and Twilio.' },
      servers: [{ url: deps.config.http.publicBaseUrl }],
      components: {
        securitySchemes: {
          apiToken: API_TOKEN_SECURITY_SCHEME,
          reportSession: REPORT_SESSION_SECURITY_SCHEME,
          twilioSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-twilio-signature',
            description: "Twilio's request signature (base64 HMAC-SHA1 with TWILIO_AUTH_TOKEN of PUBLIC_BASE_URL + path and the sorted posted parameters)",
          },
          supportSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-retention-signature',
            description: 'sha256=<hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path and query>.<raw body>"> with SUPPORT_WEBHOOK_SECRET, with the same unix-seconds timestamp in x-retention-timestamp',
          },
        },
      },
    },
    transform: routeSchemaTransform,
    transformObject: (documents) =>
      'openapiObject' in documents ? withOperationLinks(withoutBodiesWhereNone(documents.openapiObject)) : documents.swaggerObject,
  });

  documentFrameworkStatuses(app);
  answerMethodNotAllowed(app);
  app.get('/health', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Rate limits count in the store, shared by every API instance; each limiter is set up by the routes it guards.
  await app.register(rateLimit, { global: false, store: sharedRateLimitStore(deps.ctx.store, deps.now ?? (() => new Date())) });
  await app.register(limitingFailedAuthentication([customerRoutes, eventRoutes, campaignRoutes, complaintRoutes, reportRoutes]), deps);
  await app.register(linkRoutes, deps);
  // Without a Twilio account there is no auth token to check Twilio's signature with: the webhooks are not served.
  if (deps.config.sms) await app.register(twilioRoutes, { ...deps, twilioAuthToken: deps.config.sms.authToken });
  await app.ready();
  return app;
}
