import { randomUUID } from 'node:crypto';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { API_TOKEN, startApiKit, type ApiKit } from './api-kit';

/** Named tokens with scopes (API_TOKENS `name:scope+scope:secret`), beside the kit's bare, all-powerful one. */
const TOKENS = {
  dashboard: 'dashboard-secret-0123456789',
  crm: 'crm-sync-secret-0123456789',
  reader: 'read-only-secret-0123456789',
  ops: 'journey-ops-secret-0123456789',
} as const;
type Caller = keyof typeof TOKENS | 'bare';
const API_TOKENS = [
  API_TOKEN,
  `dashboard:reports:read:${TOKENS.dashboard}`,
  `crm:customers:write:${TOKENS.crm}`,
  `reader:customers:read+journeys:read:${TOKENS.reader}`,
  `ops:journeys:write:${TOKENS.ops}`,
].join(',');

const secretOf = (caller: Caller) => (caller === 'bare' ? API_TOKEN : TOKENS[caller]);
const bearer = (caller: Caller) => ({ authorization: `Bearer ${secretOf(caller)}` });

describe('API token scopes', () => {
  let kit: ApiKit;
  let app: ApiApp;
  const lines: string[] = [];
  const run = randomUUID().slice(0, 8);
  const customer = `scoped-${run}`;

  beforeAll(async () => {
    // Many refusals below come from one address: keep the failed-authentication limit out of the way.
    kit = await startApiKit({ env: { API_TOKENS, RATE_LIMIT_FAILED_AUTH: '10000' } });
    // As `npm run api` builds it, with the log lines captured.
    app = await buildApp({ config: kit.config, ctx: kit.ctx }, { logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
  });
  afterAll(async () => {
    await app?.close();
    await kit?.close();
  });
  beforeEach(async () => {
    await kit.store.upsertCustomer({ id: customer, name: 'Scoped', email: 'scoped@example.com', consentEmail: true, consentSms: false });
  });

  const send = (caller: Caller, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...bearer(caller), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('refuses a consent change with a dashboard token holding only reports:read: 403 naming the missing scope', async () => {
    const refused = await send('dashboard', 'PUT', `/customers/${customer}/consent`, { email: false });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'Forbidden', message: expect.stringContaining('lacks the scope customers:write') });
    expect(refused.json().message).toContain('"dashboard"');
    expect(await kit.store.getCustomer(customer)).toMatchObject({ consentEmail: true });
    // What it is for still works.
    expect((await send('dashboard', 'GET', '/reports/data?from=2026-03-01&to=2026-03-04')).statusCode).toBe(200);
  });

  const unknownJourney = `onboarding-nobody-${run}`;
  // Each request is valid, so the scope is the only reason to refuse it; `allowed` gets the route's own answer.
  const cases: Array<{ method: 'GET' | 'PUT' | 'POST'; url: () => string; payload?: unknown; scope: string; allowed: Record<string, number> }> = [
    { method: 'GET', url: () => `/customers/${customer}`, scope: 'customers:read', allowed: { reader: 200, crm: 200 } },
    { method: 'PUT', url: () => `/customers/${customer}`, payload: { tier: 'gold' }, scope: 'customers:write', allowed: { crm: 200 } },
    { method: 'PUT', url: () => `/customers/${customer}/consent`, payload: { sms: false }, scope: 'customers:write', allowed: { crm: 200 } },
    { method: 'POST', url: () => '/customers/import', payload: [{ id: `imported-${run}`, name: 'Imported' }], scope: 'customers:write', allowed: { crm: 200 } },
    { method: 'POST', url: () => `/customers/${customer}/events`, payload: { type: 'login' }, scope: 'customers:write', allowed: { crm: 202 } },
    { method: 'POST', url: () => `/customers/${customer}/nps`, payload: { score: 9 }, scope: 'customers:write', allowed: { crm: 201 } },
    { method: 'GET', url: () => `/customers/${customer}/journeys`, scope: 'journeys:read', allowed: { reader: 200, ops: 200 } },
    { method: 'GET', url: () => `/journeys/${unknownJourney}`, scope: 'journeys:read', allowed: { reader: 404, ops: 404 } },
    { method: 'POST', url: () => `/journeys/${unknownJourney}/cancel`, scope: 'journeys:write', allowed: { ops: 404 } },
    { method: 'POST', url: () => `/customers/nobody-${run}/journeys`, payload: { stage: 'onboarding' }, scope: 'journeys:write', allowed: { ops: 404 } },
    { method: 'POST', url: () => '/campaigns/onboarding/start', payload: { customerIds: [`nobody-${run}`] }, scope: 'journeys:write', allowed: { ops: 404 } },
    { method: 'GET', url: () => '/reports/data?from=2026-03-01&to=2026-03-04', scope: 'reports:read', allowed: { dashboard: 200 } },
    { method: 'GET', url: () => '/reports?from=2026-03-01&to=2026-03-04', scope: 'reports:read', allowed: { dashboard: 200 } },
  ];

  it.each(cases.map((c) => [`${c.method} ${c.url().replace(run, '<run>')}`, c] as const))(
    '%s: needs its scope; a token without it gets 403 naming it, a bare token has every scope',
    async (_name, c) => {
      const seen: Record<string, number> = {};
      const expected: Record<string, number> = {};
      for (const caller of ['dashboard', 'crm', 'reader', 'ops'] as const) {
        const response = await send(caller, c.method, c.url(), c.payload);
        seen[caller] = response.statusCode;
        expected[caller] = c.allowed[caller] ?? 403;
        if (response.statusCode === 403) expect(response.json().message).toContain(`lacks the scope ${c.scope}`);
      }
      expect(seen).toEqual(expected);
      expect((await send('bare', c.method, c.url(), c.payload)).statusCode).toBe(Object.values(c.allowed)[0]);
    },
  );

  it("logs every write with the token's name, never the token: {tokenName, method, route, status} at info level", async () => {
    lines.length = 0;
    expect((await send('crm', 'PUT', `/customers/${customer}`, { tier: 'silver' })).statusCode).toBe(200);
    expect((await send('dashboard', 'PUT', `/customers/${customer}/consent`, { email: false })).statusCode).toBe(403);
    expect((await send('bare', 'POST', `/customers/${customer}/events`, { type: 'login' })).statusCode).toBe(202);
    expect((await send('reader', 'GET', `/customers/${customer}`)).statusCode).toBe(200);

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const writes = entries.filter((entry) => entry.tokenName !== undefined);
    expect(writes).toEqual([
      expect.objectContaining({ level: 30, tokenName: 'crm', method: 'PUT', route: '/customers/:id', status: 200 }),
      expect.objectContaining({ level: 30, tokenName: 'dashboard', method: 'PUT', route: '/customers/:id/consent', status: 403 }),
      expect.objectContaining({ level: 30, tokenName: 'token-1', method: 'POST', route: '/customers/:id/events', status: 202 }),
    ]);
    const log = lines.join('');
    for (const secret of [API_TOKEN, ...Object.values(TOKENS)]) expect(log).not.toContain(secret);
  });

  it('keeps Idempotency-Key answers per token: two tokens may use the same key for their own requests', async () => {
    const key = randomUUID();
    const put = (caller: Caller, tier: string) => send(caller, 'PUT', `/customers/${customer}`, { tier }, { 'idempotency-key': key });
    const first = await put('crm', 'gold');
    expect(first.statusCode).toBe(200);
    const other = await put('bare', 'platinum');
    expect(other.statusCode).toBe(200);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.json()).toMatchObject({ tier: 'platinum' });
    const replayed = await put('crm', 'gold');
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  it('documents each operation\'s scope (x-required-scopes and its description) and the scopes in the security scheme', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { description?: string; 'x-required-scopes'?: string[] }>>;
      components: { securitySchemes: Record<string, { type: string; description: string; in?: string }> };
    };
    const scopesOf = (path: string, method: string) => doc.paths[path]?.[method]?.['x-required-scopes'];
    expect(scopesOf('/customers/{id}', 'get')).toEqual(['customers:read']);
    expect(scopesOf('/customers/{id}', 'put')).toEqual(['customers:write']);
    expect(scopesOf('/customers/{id}/consent', 'put')).toEqual(['customers:write']);
    expect(scopesOf('/customers/import', 'post')).toEqual(['customers:write']);
    expect(scopesOf('/customers/{id}/events', 'post')).toEqual(['customers:write']);
    expect(scopesOf('/customers/{id}/nps', 'post')).toEqual(['customers:write']);
    expect(scopesOf('/customers/{id}/journeys', 'get')).toEqual(['journeys:read']);
    expect(scopesOf('/customers/{id}/journeys', 'post')).toEqual(['journeys:write']);
    expect(scopesOf('/journeys/{workflowId}', 'get')).toEqual(['journeys:read']);
    expect(scopesOf('/journeys/{workflowId}/cancel', 'post')).toEqual(['journeys:write']);
    expect(scopesOf('/reports', 'get')).toEqual(['reports:read']);
    expect(scopesOf('/reports/data', 'get')).toEqual(['reports:read']);
    expect(doc.paths['/customers/{id}/consent']?.put?.description).toContain('Requires an API token with scope `customers:write`');

    const { apiToken, reportSession } = doc.components.securitySchemes;
    for (const scope of ['reports:read', 'customers:read', 'customers:write', 'journeys:read', 'journeys:write']) expect(apiToken?.description).toContain(scope);
    expect(apiToken?.description).toContain('name:scope+scope:secret');
    expect(reportSession).toMatchObject({ type: 'apiKey', in: 'cookie' });
  });
});
