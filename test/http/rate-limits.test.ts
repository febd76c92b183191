import { createHmac } from 'node:crypto';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { API_TOKEN, SUPPORT_SECRET, startApiKit, type ApiKit } from './api-kit';

const MAX_FAILED_AUTH = 3;
const MAX_LINK_REQUESTS = 4;
const MINUTE = 60_000;
const DASHBOARD_TOKEN = 'dashboard-token-0123456789';

let addresses = 0;
/** A client address of its own per test, so the counts of one test never meet another's. */
const newAddress = () => `203.0.113.${++addresses}`;

describe('rate limits (counted in the store, shared by API instances)', () => {
  let kit: ApiKit;
  /** Two API instances over the same store, on a clock the tests move. */
  let one: ApiApp;
  let two: ApiApp;
  // 15 minutes into the day: a window boundary of both limits (1 and 15 minutes).
  let clock = new Date('2030-01-01T00:15:00Z');
  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  beforeAll(async () => {
    kit = await startApiKit({
      env: {
        RATE_LIMIT_FAILED_AUTH: String(MAX_FAILED_AUTH),
        RATE_LIMIT_LINKS: String(MAX_LINK_REQUESTS),
        API_TOKENS: `${API_TOKEN},dashboard:reports:read:${DASHBOARD_TOKEN}`,
      },
    });
    one = await buildApp({ config: kit.config, ctx: kit.ctx, now: () => clock });
    two = await buildApp({ config: kit.config, ctx: kit.ctx, now: () => clock });
    await kit.store.upsertCustomer({ id: 'rate-probe', name: 'Probe' });
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
    await kit?.close();
  });

  const getCustomer = (app: ApiApp, remoteAddress: string, token: string) =>
    app.inject({ method: 'GET', url: '/customers/rate-probe', remoteAddress, headers: { authorization: `Bearer ${token}` } });
  const wrongToken = 'not-the-token-0123456789';

  describe('failed authentication', () => {
    it('answers 429 with Retry-After once an address failed too often, even with a good token; other addresses are served', async () => {
      advance(MINUTE);
      const attacker = newAddress();
      for (let i = 0; i < MAX_FAILED_AUTH; i++) expect((await getCustomer(one, attacker, wrongToken)).statusCode).toBe(403);

      const refused = await getCustomer(one, attacker, wrongToken);
      expect(refused.statusCode).toBe(429);
      // The window (15 minutes) started a minute ago.
      expect(refused.headers['retry-after']).toBe(String(14 * 60));
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(refused.json()).toEqual({ error: 'Too Many Requests', message: expect.stringMatching(/too many failed authentications.*14 minutes/) });
      // Refused before the credentials are looked at: a good token does not get through (nor learns it is good).
      expect((await getCustomer(one, attacker, API_TOKEN)).statusCode).toBe(429);
      expect((await getCustomer(one, newAddress(), API_TOKEN)).statusCode).toBe(200);

      // Until the window ends.
      advance(14 * MINUTE);
      expect((await getCustomer(one, attacker, API_TOKEN)).statusCode).toBe(200);
    });

    it('never counts authenticated traffic, however much', async () => {
      const marketer = newAddress();
      for (let i = 0; i < 3 * MAX_FAILED_AUTH; i++) expect((await getCustomer(one, marketer, API_TOKEN)).statusCode).toBe(200);
      // A typo after all that is one failure, not the last straw.
      expect((await getCustomer(one, marketer, wrongToken)).statusCode).toBe(403);
      expect((await getCustomer(one, marketer, API_TOKEN)).statusCode).toBe(200);
    });

    it('does not count a valid token refused for its scope (403): that is no failed login', async () => {
      const dashboard = newAddress();
      for (let i = 0; i < 3 * MAX_FAILED_AUTH; i++) {
        const change = await one.inject({ method: 'PUT', url: '/customers/rate-probe/consent', remoteAddress: dashboard, headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` }, payload: { email: false } });
        expect(change.statusCode).toBe(403);
      }
      expect((await one.inject({ method: 'GET', url: '/reports/data', remoteAddress: dashboard, headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } })).statusCode).toBe(200);
    });

    it('counts a missing token (401) as a failure too', async () => {
      const client = newAddress();
      for (let i = 0; i < MAX_FAILED_AUTH; i++) {
        expect((await one.inject({ method: 'GET', url: '/customers/rate-probe', remoteAddress: client })).statusCode).toBe(401);
      }
      expect((await one.inject({ method: 'GET', url: '/customers/rate-probe', remoteAddress: client })).statusCode).toBe(429);
    });

    it('shares the count between API instances: failures split across both reach the limit at the same total', async () => {
      const attacker = newAddress();
      for (let i = 0; i < MAX_FAILED_AUTH; i++) {
        expect((await getCustomer(i % 2 === 0 ? one : two, attacker, wrongToken)).statusCode).toBe(403);
      }
      expect((await getCustomer(two, attacker, wrongToken)).statusCode).toBe(429);
      expect((await getCustomer(one, attacker, API_TOKEN)).statusCode).toBe(429);
    });

    it('counts support webhooks whose signature fails', async () => {
      const supportSystem = newAddress();
      const post = (secret: string) => {
        const raw = JSON.stringify({ ticketId: `T-rate-${supportSystem}`, customerId: 'rate-probe', subject: 'Late' });
        const timestamp = Math.floor(clock.getTime() / 1000);
        const signature = `sha256=${createHmac('sha256', secret).update(`${timestamp}.POST./complaints.${raw}`).digest('hex')}`;
        return one.inject({
          method: 'POST',
          url: '/complaints',
          remoteAddress: supportSystem,
          headers: { 'content-type': 'application/json', 'x-retention-timestamp': String(timestamp), 'x-retention-signature': signature },
          payload: raw,
        });
      };
      for (let i = 0; i < MAX_FAILED_AUTH; i++) expect((await post('not-the-support-secret-0123')).statusCode).toBe(401);
      const refused = await post(SUPPORT_SECRET);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    });

    it('counts the address the load balancer saw: X-Forwarded-For entries a client adds itself do not change it', async () => {
      const loadBalancer = '10.0.0.1';
      const client = newAddress();
      const via = (forwardedFor: string, token: string) =>
        one.inject({ method: 'GET', url: '/customers/rate-probe', remoteAddress: loadBalancer, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': forwardedFor } });
      for (let i = 0; i < MAX_FAILED_AUTH; i++) expect((await via(`198.18.0.${i}, ${client}`, wrongToken)).statusCode).toBe(403);
      expect((await via(`198.18.1.1, ${client}`, wrongToken)).statusCode).toBe(429);
      expect((await via(client, API_TOKEN)).statusCode).toBe(429);
      // Another client behind the same load balancer is told apart.
      expect((await via(newAddress(), API_TOKEN)).statusCode).toBe(200);
    });
  });

  describe('customer-facing links', () => {
    // Incomplete links (400): what they answer does not matter, every request counts.
    const link = (app: ApiApp, remoteAddress: string, accept: string, url = '/unsubscribe?c=rate-probe&ch=email&t=forged') =>
      app.inject({ method: 'GET', url, remoteAddress, headers: { accept } });
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

    it('limits requests per address across instances: a page for browsers, JSON for JSON clients, with Retry-After', async () => {
      // 15 seconds into a minute window.
      advance(MINUTE - (clock.getTime() % MINUTE) + 15_000);
      const customer = newAddress();
      for (let i = 0; i < MAX_LINK_REQUESTS; i++) {
        const answer = await link(i % 2 === 0 ? one : two, customer, browser, i === 1 ? '/surveys?s=csat' : undefined);
        expect(answer.statusCode).not.toBe(429);
      }

      const page = await link(one, customer, browser);
      expect(page.statusCode).toBe(429);
      expect(page.headers['retry-after']).toBe('45');
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('<h1>Too many requests</h1>');
      expect(page.body).toContain('Please try again in 45 seconds.');

      const json = await two.inject({ method: 'POST', url: '/surveys?s=csat', remoteAddress: customer, headers: { 'content-type': 'application/json' }, payload: { rating: 5 } });
      expect(json.statusCode).toBe(429);
      expect(json.headers['retry-after']).toBe('45');
      expect(json.json()).toEqual({ error: 'Too many requests', message: expect.stringContaining('45 seconds') });

      // Another address is served; the next window serves this one again.
      expect((await link(one, newAddress(), browser)).statusCode).not.toBe(429);
      advance(45_000);
      expect((await link(one, customer, browser)).statusCode).not.toBe(429);
    });

    it('keeps link traffic apart from the failed-authentication count', async () => {
      const customer = newAddress();
      // Forged links are 403s, but they count only against the link limit.
      for (let i = 0; i < MAX_LINK_REQUESTS; i++) expect((await link(one, customer, 'application/json')).statusCode).not.toBe(429);
      expect((await getCustomer(one, customer, API_TOKEN)).statusCode).toBe(200);
    });
  });

  it('lets requests through, uncounted, while the store cannot count them', async () => {
    const down = () => Promise.reject(new Error('database unreachable'));
    const store = { ...kit.store, hitRateLimit: down, peekRateLimit: down };
    const app = await buildApp({ config: kit.config, ctx: { ...kit.ctx, store }, now: () => clock });
    try {
      const client = newAddress();
      for (let i = 0; i <= MAX_FAILED_AUTH; i++) expect((await getCustomer(app, client, wrongToken)).statusCode).toBe(403);
      expect((await getCustomer(app, client, API_TOKEN)).statusCode).toBe(200);
      for (let i = 0; i <= MAX_LINK_REQUESTS; i++) expect((await app.inject({ method: 'GET', url: '/surveys', remoteAddress: client })).statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });

  it('documents 429 on every route that can answer it: every documented route (the kit serves no Twilio webhooks)', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/unsubscribe', '/surveys', '/customers/{id}', '/complaints', '/reports/data']));
    const undocumented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).filter(([, operation]) => !('429' in operation.responses)).map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented).toEqual([]);
  });
});
