import { startApiKit, type ApiKit } from './api-kit';

interface Operation {
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** The OpenAPI document as the truth about status codes and methods (issue 12, "the contract"). */
describe('HTTP API contract', () => {
  let kit: ApiKit;
  let doc: Document;

  beforeAll(async () => {
    kit = await startApiKit();
    doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(async () => {
    await kit?.close();
  });

  it.each([
    ['TRACE', '/complaints', 'POST'],
    ['DELETE', '/customers/c-1', 'GET, HEAD, PUT'],
    ['PATCH', '/customers/c-1/consent', 'PUT'],
    ['GET', '/journeys/onboarding-c-1/cancel', 'POST'],
    ['PUT', '/reports/data', 'GET, HEAD'],
  ] as const)('answers %s %s with 405 and Allow: %s', async (method, url, allow) => {
    const response = await kit.app.inject({ method: method as 'GET', url, headers: kit.auth });
    expect(response.statusCode).toBe(405);
    expect(String(response.headers.allow).split(', ').sort().join(', ')).toBe(allow);
    expect(response.json()).toMatchObject({ error: 'Method Not Allowed' });
  });

  it('answers 405 to QUERY before reading a body it would not use', async () => {
    // Fastify refuses a QUERY without a content type with 400 before any route hook; the path is known, the method is not.
    const response = await kit.app.inject({ method: 'QUERY' as 'GET', url: '/journeys/onboarding-c-1', headers: kit.auth });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('answers 404 to a path no method serves', async () => {
    expect((await kit.app.inject({ method: 'TRACE' as 'GET', url: '/no-such-thing' })).statusCode).toBe(404);
    expect((await kit.app.inject({ method: 'GET', url: '/customers/c-1/no-such-thing', headers: kit.auth })).statusCode).toBe(404);
  });

  // Written from what each route is: who may call it, whether it has path parameters and a body.
  it.each([
    ['/customers/{id}', 'put', ['400', '401', '403', '404', '409', '413', '414', '415', '422', '429']],
    ['/customers/{id}', 'get', ['400', '401', '403', '404', '414', '429']],
    ['/customers/import', 'post', ['400', '401', '403', '409', '413', '415', '422', '429']],
    ['/campaigns/onboarding/start', 'post', ['400', '401', '403', '404', '409', '413', '415', '422', '429']],
    ['/journeys/{workflowId}', 'get', ['400', '401', '403', '404', '409', '414', '429']],
    ['/complaints', 'post', ['400', '401', '404', '409', '413', '415', '422', '429']],
    ['/complaints/{ticketId}/events', 'post', ['400', '401', '404', '409', '413', '414', '415', '422', '429']],
    ['/reports/data', 'get', ['400', '401', '403', '429']],
  ])('documents every error status %s %s can answer', (path, method, statuses) => {
    const documented = Object.keys(doc.paths[path]?.[method]?.responses ?? {}).filter((status) => status >= '400');
    expect(documented.sort()).toEqual(expect.arrayContaining(statuses));
  });

  it('answers a path parameter longer than any valid one with the documented 414', async () => {
    const response = await kit.app.inject({ method: 'GET', url: `/customers/${'x'.repeat(4_000)}`, headers: kit.auth });
    expect(response.statusCode).toBe(414);
    expect(doc.paths['/customers/{id}']?.get?.responses).toHaveProperty('414');
  });

  it('takes a percent-encoded path parameter within its documented length and validates it', async () => {
    // 250 four-byte characters are 3,000 characters percent-encoded: the router takes them (Fastify's default limit is
    // 100), and the schema, which allows 200, answers 400 naming the parameter.
    const response = await kit.app.inject({ method: 'GET', url: `/customers/${encodeURIComponent('😀'.repeat(250))}`, headers: kit.auth });
    expect(response.statusCode).toBe(400);
    expect(response.json().issues.map((issue: { path: string }) => issue.path)).toEqual(['params.id']);
  });

  it('takes valid JSON with a __proto__ key, dropping the key instead of the request', async () => {
    const payload = '{"name":"Proto","__proto__":{"polluted":true}}';
    const response = await kit.app.inject({ method: 'PUT', url: '/customers/proto-1', headers: { ...kit.auth, 'content-type': 'application/json' }, payload });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ id: 'proto-1', name: 'Proto' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('declares how operations connect (OpenAPI links), so clients and fuzzers can follow real ids', () => {
    const links = (path: string, method: string, status: string) =>
      (doc.paths[path]?.[method]?.responses[status] as { links?: Record<string, { operationRef: string; parameters: Record<string, string> }> })?.links ?? {};
    expect(links('/customers/{id}', 'put', '201').GetCustomer).toEqual(
      expect.objectContaining({ operationRef: '#/paths/~1customers~1{id}/get', parameters: { id: '$response.body#/id' } }),
    );
    expect(Object.keys(links('/customers/{id}', 'put', '200')).sort()).toEqual(['GetCustomer', 'ListJourneys', 'RecordEvent', 'RecordNps', 'SetConsent', 'StartJourney']);
    expect(links('/campaigns/onboarding/start', 'post', '201').GetJourney?.parameters).toEqual({ workflowId: '$response.body#/results/0/workflowId' });
    expect(links('/complaints', 'post', '201').ReportProgress?.parameters).toEqual({ ticketId: '$request.body#/ticketId' });
    // Every link points at an operation of this document.
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          for (const link of Object.values(links(path, method, status))) {
            const [, target, targetMethod] = /^#\/paths\/(.+)\/(get|put|post)$/.exec(link.operationRef) ?? [];
            expect(doc.paths[(target ?? '').replaceAll('~1', '/')]?.[targetMethod ?? '']).toBeDefined();
            expect(response).toBeDefined();
          }
        }
      }
    }
  });
});
