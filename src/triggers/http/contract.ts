import type { FastifyInstance, RouteOptions } from 'fastify';
import FindMyWay from 'find-my-way';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { ErrorBody } from './errors';
import { ErrorBodySchema, errorDescription, type ErrorStatus } from './schemas';

/**
 * The longest path parameter the router takes, as sent (percent-encoded). The longest declared parameter is 300
 * characters, and a character is at most 4 UTF-8 bytes of 3 characters each encoded: 3,600. Longer gets 414.
 */
export const MAX_PARAM_LENGTH = 3_600;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function methodsOf(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/** The error statuses Fastify itself and the app's shared hooks can answer on this route, whatever its handler does. */
function statusesAnsweredAround(route: RouteOptions): ErrorStatus[] {
  const statuses: ErrorStatus[] = [400, 429];
  const schemes = (route.schema?.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.includes('apiToken')) statuses.push(401, 403);
  if (schemes.includes('supportSignature')) statuses.push(401);
  if (route.url.includes(':')) statuses.push(404, 414);
  if (methodsOf(route).some((method) => BODY_METHODS.has(method))) statuses.push(413, 415);
  return statuses;
}

/**
 * Makes the OpenAPI document list every status a route can answer (the document is the truth): an onRoute
 * hook adds, to each documented route, the error statuses the framework and shared hooks answer (validation,
 * authentication, unknown or over-long path parameters, body limits and types, rate limits) that the route does not
 * already describe itself. Register before the routes.
 */
export function documentFrameworkStatuses(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.schema?.hide || methodsOf(route).every((method) => method === 'HEAD')) return;
    const response = { ...((route.schema?.response ?? {}) as Record<string, unknown>) };
    for (const status of statusesAnsweredAround(route)) {
      response[status] ??= ErrorBodySchema.describe(errorDescription(status));
    }
    route.schema = { ...route.schema, response };
  });
}

/**
 * A known path with a method it does not serve answers 405 with `Allow` (RFC 9110), not 404: an onRequest hook on the
 * not-found handler, so it runs before any body parsing (a QUERY without a content type would otherwise be 400).
 */
export function answerMethodNotAllowed(app: FastifyInstance): void {
  const router = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  const registered = new Set<string>();
  const methods = new Set<string>();
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of methodsOf(route)) {
      const key = `${method} ${route.url}`;
      if (registered.has(key)) continue;
      registered.add(key);
      methods.add(method);
      router.on(method as FindMyWay.HTTPMethod, route.url, () => undefined, { url: route.url });
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?', 1)[0] ?? request.url;
    const routes = [...methods].flatMap((method) => {
      const found = router.find(method as FindMyWay.HTTPMethod, path);
      return found ? [{ method, url: (found.store as { url: string }).url }] : [];
    });
    if (routes.length === 0) return;
    // The path's own resource: /customers/import is not /customers/{id}, although GET /customers/import reaches the latter.
    const resource = routes.map((route) => route.url).sort((a, b) => paramCount(a) - paramCount(b))[0];
    const allowed = routes.filter((route) => route.url === resource).map((route) => route.method);
    return reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send({ error: 'Method Not Allowed', message: `${request.method} is not served here; use ${allowed.join(', ')}` } satisfies ErrorBody);
  });
}

function paramCount(url: string): number {
  return url.split('/').filter((segment) => segment.startsWith(':')).length;
}

type Method = 'get' | 'put' | 'post';
interface OperationLink {
  from: { method: Method; path: string; statuses: string[] };
  name: string;
  to: { method: Method; path: string };
  description: string;
  parameters: Record<string, string>;
}

const customerCreated = (method: Method, path: string) => ({ method, path, statuses: ['200', '201'] });
const putCustomer = customerCreated('put', '/customers/{id}');
const JOURNEY_STARTS = [
  customerCreated('post', '/customers/{id}/journeys'),
  ...['onboarding', 'nurture', 'winback'].map((stage) => customerCreated('post', `/campaigns/${stage}/start`)),
];
const FROM_CUSTOMER = { id: '$response.body#/id' };

/** How the operations connect (OpenAPI links): a client, or a fuzzer's stateful phase, follows them with real ids. */
const OPERATION_LINKS: OperationLink[] = [
  { from: putCustomer, name: 'GetCustomer', to: { method: 'get', path: '/customers/{id}' }, description: 'the profile just written', parameters: FROM_CUSTOMER },
  { from: putCustomer, name: 'SetConsent', to: { method: 'put', path: '/customers/{id}/consent' }, description: "the customer's consent", parameters: FROM_CUSTOMER },
  { from: putCustomer, name: 'RecordEvent', to: { method: 'post', path: '/customers/{id}/events' }, description: 'an event of this customer', parameters: FROM_CUSTOMER },
  { from: putCustomer, name: 'RecordNps', to: { method: 'post', path: '/customers/{id}/nps' }, description: "this customer's NPS answer", parameters: FROM_CUSTOMER },
  { from: putCustomer, name: 'StartJourney', to: { method: 'post', path: '/customers/{id}/journeys' }, description: 'a stage for this customer', parameters: FROM_CUSTOMER },
  { from: putCustomer, name: 'ListJourneys', to: { method: 'get', path: '/customers/{id}/journeys' }, description: "this customer's journeys", parameters: FROM_CUSTOMER },
  ...JOURNEY_STARTS.flatMap((from): OperationLink[] => {
    const workflowId = from.path.startsWith('/campaigns/') ? '$response.body#/results/0/workflowId' : '$response.body#/workflowId';
    return [
      { from, name: 'GetJourney', to: { method: 'get', path: '/journeys/{workflowId}' }, description: 'the journey started', parameters: { workflowId } },
      { from, name: 'CancelJourney', to: { method: 'post', path: '/journeys/{workflowId}/cancel' }, description: 'cancel the journey started', parameters: { workflowId } },
    ];
  }),
  {
    from: { method: 'post', path: '/complaints', statuses: ['200', '201'] },
    name: 'ReportProgress',
    to: { method: 'post', path: '/complaints/{ticketId}/events' },
    description: "progress on the ticket just opened",
    parameters: { ticketId: '$request.body#/ticketId' },
  },
  {
    from: { method: 'post', path: '/complaints', statuses: ['200', '201'] },
    name: 'GetJourney',
    to: { method: 'get', path: '/journeys/{workflowId}' },
    description: "the ticket's complaint journey",
    parameters: { workflowId: '$response.body#/workflowId' },
  },
];

interface DocumentOperation {
  responses?: Record<string, { links?: Record<string, unknown> }>;
}
interface OpenApiDocument {
  paths?: Record<string, Partial<Record<Method, DocumentOperation>>>;
}

const pointer = (path: string, method: Method) => `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}`;

/**
 * The document with OPERATION_LINKS added to the responses they start from (@fastify/swagger has no route option for
 * links: this is its `transformObject`). A link whose operations are not in the document is left out.
 */
export function withOperationLinks<D extends object>(document: D): D {
  const { paths } = document as OpenApiDocument;
  for (const link of OPERATION_LINKS) {
    const from = paths?.[link.from.path]?.[link.from.method];
    if (!from || !paths?.[link.to.path]?.[link.to.method]) continue;
    for (const status of link.from.statuses) {
      const response = from.responses?.[status];
      if (!response) continue;
      response.links = {
        ...response.links,
        [link.name]: { operationRef: pointer(link.to.path, link.to.method), description: link.description, parameters: link.parameters },
      };
    }
  }
  return document;
}

type RouteDocument = Parameters<typeof jsonSchemaTransform>[0];
interface ContentBody {
  content: Record<string, { schema: unknown }>;
}
const hasContentBody = (body: unknown): body is ContentBody => typeof body === 'object' && body !== null && 'content' in body;

/**
 * fastify-type-provider-zod's route transform, also for a body with one zod schema per content type (Fastify's
 * `body: { content: { <type>: { schema } } }`), which that transform takes for a single schema.
 */
export function routeSchemaTransform(document: RouteDocument): ReturnType<typeof jsonSchemaTransform> {
  const body = document.schema?.body;
  if (!hasContentBody(body)) return jsonSchemaTransform(document);
  const transformed = jsonSchemaTransform({ ...document, schema: { ...document.schema, body: undefined } });
  const content = Object.fromEntries(
    Object.entries(body.content).map(([type, { schema }]) => [type, { schema: jsonSchemaTransform({ ...document, schema: { body: schema } }).schema.body }]),
  );
  return { ...transformed, schema: { ...transformed.schema, body: { content } } };
}

/** Statuses whose answers carry no body (the route's schema is `null`): documented without content. */
const BODYLESS_STATUSES = ['204', '303'];

/** The document with no `content` on 204 and 303 answers (fastify-swagger gives every response schema one). */
export function withoutBodiesWhereNone<D extends object>(document: D): D {
  for (const operations of Object.values((document as OpenApiDocument).paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const status of BODYLESS_STATUSES) {
        const response = operation?.responses?.[status] as { content?: unknown } | undefined;
        if (response) delete response.content;
      }
    }
  }
  return document;
}
