import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiDeps } from './deps';
import { apiErrorHandler } from './errors';
import { loggedRequest } from './log-redaction';
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
  const app = Fastify({ logger, trustProxy: true, routerOptions: { maxParamLength: 300 } }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(apiErrorHandler);

  const parseJson = app.getDefaultJsonParser('error', 'error');
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
          apiToken: { type: 'http', scheme: 'bearer', description: 'A marketer API token (API_TOKENS)' },
          supportSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-retention-signature',
            description: 'sha256=<hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path and query>.<raw body>"> with SUPPORT_WEBHOOK_SECRET, with the same unix-seconds timestamp in x-retention-timestamp',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.get('/health', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const routes of [customerRoutes, eventRoutes, campaignRoutes, complaintRoutes, linkRoutes, reportRoutes]) {
    await app.register(routes, deps);
  }
  // Without a Twilio account there is no auth token to check Twilio's signature with: the webhooks are not served.
  if (deps.config.sms) await app.register(twilioRoutes, { ...deps, twilioAuthToken: deps.config.sms.authToken });
  await app.ready();
  return app;
}
