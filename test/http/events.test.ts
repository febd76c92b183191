import { randomUUID } from 'node:crypto';
import { allPowerfulToken } from '../../src/api-tokens';
import { computeReport } from '../../src/reports/compute';
import type { JourneyState } from '../../src/shared/journey-types';
import type { Store } from '../../src/store';
import { buildApp } from '../../src/triggers/http/app';
import {
  API_TOKEN,
  eventually,
  QUIET_NURTURE as NURTURE,
  QUIET_ONBOARDING as ONBOARDING,
  startApiKit,
  terminateJourneys,
  type ApiKit,
  type Issue,
} from './api-kit';

describe('HTTP API: customer events', () => {
  let kit: ApiKit;
  const run = randomUUID().slice(0, 8);
  const touched: string[] = [];

  const sendEvent = (customerId: string, payload: unknown, headers: Record<string, string> = {}) =>
    kit.app.inject({ method: 'POST', url: `/customers/${customerId}/events`, headers: { ...kit.auth, ...headers }, payload: payload as object });
  const paths = (body: { issues?: Issue[] }) => [...new Set((body.issues ?? []).map((i) => i.path))].sort();
  const addCustomer = async (name: string) => {
    const id = `${name}-${run}`;
    await kit.store.upsertCustomer({ id, name, email: `${id}@example.com`, consentEmail: true, consentSms: true, phone: '+15005550006' });
    touched.push(`onboarding-${id}`, `nurture-${id}`, `winback-${id}`);
    return id;
  };
  /** Polls the journey's state (via the API) until `accept` holds. */
  const stateWhen = (workflowId: string, accept: (s: JourneyState) => boolean, what: string) =>
    eventually(
      async () => {
        const response = await kit.app.inject({ method: 'GET', url: `/journeys/${workflowId}`, headers: kit.auth });
        if (response.statusCode !== 200) return undefined;
        const state = response.json() as JourneyState;
        return accept(state) ? state : undefined;
      },
      20_000,
      what,
    );

  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [ONBOARDING, NURTURE] });
  });
  afterAll(async () => {
    if (!kit) return;
    await terminateJourneys(kit, touched);
    await kit.close();
  });

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const id = await addCustomer('auth');
    const before = await kit.store.getCustomer(id);
    // A valid login a minute ahead: had it been recorded, the activity time would have moved to it.
    const login = { type: 'login', occurredAt: new Date(Date.now() + 60_000).toISOString() };
    const none = await kit.app.inject({ method: 'POST', url: `/customers/${id}/events`, payload: login });
    expect(none.statusCode).toBe(401);
    const wrong = await kit.app.inject({ method: 'POST', url: `/customers/${id}/events`, headers: { authorization: 'Bearer nope' }, payload: login });
    expect(wrong.statusCode).toBe(403);
    expect((await kit.store.getCustomer(id))?.lastActivityAt).toEqual(before?.lastActivityAt);
  });

  it('a purchase with no journey starts nurture with it (signal-with-start); the state query shows the points', async () => {
    const id = await addCustomer('buyer');
    const response = await sendEvent(id, { type: 'purchase', amount: 120, orderId: 'order-1' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ event: { type: 'purchase', amount: 120, orderId: 'order-1', eventId: 'order:order-1' }, deliveredTo: [`nurture-${id}`] });

    const state = await stateWhen(`nurture-${id}`, (s) => s.details.points === 120, 'purchase applied');
    expect(state).toMatchObject({ stage: 'nurture', campaignId: 'api-test-nurture', details: { points: 120, totalSpend: 120, tier: 'standard' } });
    await eventually(async () => ((await kit.store.listOutcomes({ customerId: id, status: 'purchase' })).length === 1 ? true : undefined));

    const second = await sendEvent(id, { type: 'purchase', amount: 400 });
    expect(second.json().deliveredTo).toEqual([`nurture-${id}`]);
    const upgraded = await stateWhen(`nurture-${id}`, (s) => s.details.points === 520, 'second purchase applied');
    expect(upgraded.details.tier).toBe('silver');
  });

  it('an activation converts a running onboarding journey, which hands the customer to nurture', async () => {
    const id = await addCustomer('activator');
    const started = await kit.app.inject({ method: 'POST', url: `/customers/${id}/journeys`, headers: kit.auth, payload: { stage: 'onboarding' } });
    expect(started.statusCode).toBe(201);
    await stateWhen(`onboarding-${id}`, (s) => s.messagesSent === 1, 'welcome sent');

    const response = await sendEvent(id, { type: 'activation' });
    expect(response.statusCode).toBe(202);
    expect(response.json().deliveredTo).toEqual([`onboarding-${id}`]);

    const converted = await stateWhen(`onboarding-${id}`, (s) => s.outcome === 'converted', 'onboarding converted');
    expect(converted).toMatchObject({ stage: 'onboarding', customerId: id, messagesSent: 1 });
    await eventually(async () => ((await kit.store.listOutcomes({ customerId: id, status: 'converted' })).length === 1 ? true : undefined));
    await stateWhen(`nurture-${id}`, (s) => s.stage === 'nurture', 'nurture after hand-off');
  });

  it('tells running journeys of a consent an import withdrew, as of the customer\'s own unsubscribe', async () => {
    const id = await addCustomer('imported-out');
    const started = await kit.app.inject({ method: 'POST', url: `/customers/${id}/journeys`, headers: kit.auth, payload: { stage: 'onboarding' } });
    expect(started.statusCode).toBe(201);
    await stateWhen(`onboarding-${id}`, (s) => s.messagesSent === 1, 'welcome sent');

    const imported = await kit.app.inject({ method: 'POST', url: '/customers/import', headers: kit.auth, payload: [{ id, consentEmail: false, consentSms: false }] });
    expect(imported.json()).toMatchObject({ imported: 1, updated: 1 });
    // The campaign ends a journey on unsubscribe (onUnsubscribe defaults to "end").
    await stateWhen(`onboarding-${id}`, (s) => s.outcome === 'unsubscribed', 'onboarding ended by the import');
  });

  it('stores consent changes and activity times', async () => {
    const id = await addCustomer('settings');
    const unsubscribe = await sendEvent(id, { type: 'unsubscribe', channel: 'sms' });
    expect(unsubscribe.statusCode).toBe(202);
    expect(unsubscribe.json()).toEqual({ event: { type: 'unsubscribe', channel: 'sms', eventId: expect.any(String) }, deliveredTo: [] });
    expect(await kit.store.getCustomer(id)).toMatchObject({ consentEmail: true, consentSms: false });
    expect((await sendEvent(id, { type: 'unsubscribe' })).json().event).toEqual({ type: 'unsubscribe', channel: 'all', eventId: expect.any(String) });
    expect(await kit.store.getCustomer(id)).toMatchObject({ consentEmail: false, consentSms: false });

    const at = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const login = await sendEvent(id, { type: 'login', occurredAt: at });
    expect(login.statusCode).toBe(202);
    expect((await kit.store.getCustomer(id))?.lastActivityAt.toISOString()).toBe(new Date(at).toISOString());
  });

  it('answers 404 for an unknown customer', async () => {
    const response = await sendEvent(`ghost-${run}`, { type: 'login' });
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toMatch(/unknown customer/);
  });

  it.each([
    ['a missing type', { amount: 3 }, ['body.type']],
    ['an unknown type', { type: 'refund' }, ['body.type']],
    ['a negative amount', { type: 'purchase', amount: -5 }, ['body.amount']],
    ['an amount as text', { type: 'purchase', amount: '12' }, ['body.amount']],
    ['a missing amount', { type: 'purchase' }, ['body.amount']],
    ['a bad channel', { type: 'channel-preference', channel: 'fax' }, ['body.channel']],
    ['a bad occurredAt', { type: 'login', occurredAt: 'last tuesday' }, ['body.occurredAt']],
    ['a future occurredAt', { type: 'login', occurredAt: '2999-01-01T00:00:00Z' }, ['body.occurredAt']],
    ['an array', [{ type: 'login' }], ['body']],
    ['null', null, ['body']],
  ])('answers 400 naming the field, not 500, to %s', async (_what, payload, expected) => {
    const id = await addCustomer('bad-input');
    const before = await kit.store.getCustomer(id);
    const response = await sendEvent(id, payload === null ? 'null' : payload, { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(400);
    expect(paths(response.json())).toEqual(expected);
    expect((await kit.store.getCustomer(id))?.lastActivityAt).toEqual(before?.lastActivityAt);
  });

  it('answers 4xx, not 500, to malformed JSON, wrong content types, bad ids and oversized bodies', async () => {
    const id = await addCustomer('transport');
    expect((await sendEvent(id, '{"type": "login"', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await sendEvent(id, '', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await sendEvent(id, 'type=login', { 'content-type': 'text/plain' })).statusCode).toBe(400);
    expect((await sendEvent(id, '<type>login</type>', { 'content-type': 'application/xml' })).statusCode).toBe(415);
    expect((await sendEvent(id, 'customer_id\nx\n', { 'content-type': 'text/csv' })).statusCode).toBe(415);
    expect((await sendEvent(id, { type: 'purchase', amount: 1, orderId: 'o'.repeat(100_000) })).statusCode).toBe(413);
    expect((await sendEvent('%20', { type: 'login' })).statusCode).toBe(400);
    expect((await sendEvent('x'.repeat(5_000), { type: 'login' })).statusCode).toBe(414);
  });

  it('records NPS answers once per response id, refuses scores off the 0-10 scale, and the report counts them', async () => {
    const ids = await Promise.all(['nps-a', 'nps-b', 'nps-c', 'nps-d'].map(addCustomer));
    const answer = (customerId: string, payload: unknown) =>
      kit.app.inject({ method: 'POST', url: `/customers/${customerId}/nps`, headers: kit.auth, payload: payload as object });
    const from = new Date(Date.now() - 1000);
    // Two promoters (10, 9), one passive (8), one detractor (3): NPS = (2 - 1) / 4 = +25.
    const scores = [10, 9, 8, 3];
    for (const [i, score] of scores.entries()) {
      const response = await answer(ids[i] as string, { score, responseId: `r-${i}`, comment: 'thanks' });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ score, duplicate: false });
    }
    const repeat = await answer(ids[0] as string, { score: 10, responseId: 'r-0' });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toMatchObject({ duplicate: true });

    const offScale = await answer(ids[0] as string, { score: 11 });
    expect(offScale.statusCode).toBe(400);
    expect(paths(offScale.json())).toEqual(['body.score']);
    expect((await answer(`nobody-${run}`, { score: 5 })).statusCode).toBe(404);
    expect((await kit.app.inject({ method: 'POST', url: `/customers/${ids[0]}/nps`, payload: { score: 5 } })).statusCode).toBe(401);

    const report = await computeReport(kit.store, { from, to: new Date(Date.now() + 1000) });
    expect(report.satisfaction.nps).toEqual({ responses: 4, promoters: 2, passives: 1, detractors: 1, score: 25 });
  });

  describe('Idempotency-Key', () => {
    /** Another API instance over the same Temporal and store, with `store` methods replaced (the key records stay real). */
    const instanceWith = (store: Partial<Store>, tokens: string[] = [API_TOKEN]) =>
      buildApp({
        config: { ...kit.config, http: { ...kit.config.http, apiTokens: tokens.map((secret, index) => allPowerfulToken(`token-${index + 1}`, secret)) } },
        ctx: { ...kit.ctx, store: { ...kit.store, ...store } },
      });

    it('answers a purchase retried with the same key with the first answer, replayed, and records it once', async () => {
      const id = await addCustomer('retried');
      const key = randomUUID();
      const purchase = { type: 'purchase', amount: 70 };
      const first = await sendEvent(id, purchase, { 'idempotency-key': key });
      expect(first.statusCode).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(first.json().event).toEqual({ ...purchase, eventId: `idem:${key}` });

      const retry = await sendEvent(id, purchase, { 'idempotency-key': key });
      expect(retry.statusCode).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers['content-type']).toBe(first.headers['content-type']);
      expect(retry.body).toBe(first.body);

      // A later purchase lands on top of one 70, not two: the retry was not delivered again.
      expect((await sendEvent(id, { type: 'purchase', amount: 5 })).statusCode).toBe(202);
      await stateWhen(`nurture-${id}`, (s) => s.details.points === 75, 'both purchases applied');
      await eventually(async () => ((await kit.store.listOutcomes({ customerId: id, status: 'purchase' })).length === 2 ? true : undefined));
    });

    it('refuses the key with another body or another URL (422), and still replays the first answer', async () => {
      const [id, other] = await Promise.all([addCustomer('mismatch'), addCustomer('mismatch-other')]);
      const key = randomUUID();
      expect((await sendEvent(id, { type: 'login' }, { 'idempotency-key': key })).statusCode).toBe(202);
      const otherBody = await sendEvent(id, { type: 'activation' }, { 'idempotency-key': key });
      expect(otherBody.statusCode).toBe(422);
      expect(otherBody.json().message).toMatch(/different request/);
      expect((await sendEvent(other, { type: 'login' }, { 'idempotency-key': key })).statusCode).toBe(422);
      expect((await sendEvent(id, { type: 'login' }, { 'idempotency-key': key })).headers['idempotent-replayed']).toBe('true');
    });

    it('answers 409 while the first request with the key runs, and its answer once it has finished', async () => {
      const id = await addCustomer('in-flight');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const slow = await instanceWith({
        async touchActivity(customerId, at) {
          entered();
          await gate;
          return kit.store.touchActivity(customerId, at);
        },
      });
      try {
        const key = randomUUID();
        const request = { method: 'POST' as const, url: `/customers/${id}/events`, headers: { ...kit.auth, 'idempotency-key': key }, payload: { type: 'login' } };
        const first = slow.inject(request);
        await inside;
        const concurrent = await kit.app.inject(request);
        expect(concurrent.statusCode).toBe(409);
        expect(concurrent.json().message).toMatch(/still in progress/);
        release();
        expect((await first).statusCode).toBe(202);
        const after = await kit.app.inject(request);
        expect(after.statusCode).toBe(202);
        expect(after.headers['idempotent-replayed']).toBe('true');
      } finally {
        release();
        await slow.close();
      }
    });

    it('runs a request again when its first attempt failed with a 5xx', async () => {
      const id = await addCustomer('failed-once');
      const failing = await instanceWith({ touchActivity: () => Promise.reject(new Error('database unavailable')) });
      const key = randomUUID();
      try {
        const failed = await failing.inject({ method: 'POST', url: `/customers/${id}/events`, headers: { ...kit.auth, 'idempotency-key': key }, payload: { type: 'login' } });
        expect(failed.statusCode).toBe(500);
      } finally {
        await failing.close();
      }
      const retry = await sendEvent(id, { type: 'login' }, { 'idempotency-key': key });
      expect(retry.statusCode).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });

    it("keeps each caller's keys apart: another API token may use the same key for its own request", async () => {
      const id = await addCustomer('two-callers');
      const otherToken = 'another-marketer-token-0123456789';
      const app = await instanceWith({}, [API_TOKEN, otherToken]);
      try {
        const key = randomUUID();
        const send = (token: string, payload: object) =>
          app.inject({ method: 'POST', url: `/customers/${id}/events`, headers: { authorization: `Bearer ${token}`, 'idempotency-key': key }, payload });
        expect((await send(API_TOKEN, { type: 'login' })).statusCode).toBe(202);
        const other = await send(otherToken, { type: 'activation' });
        expect(other.statusCode).toBe(202);
        expect(other.headers['idempotent-replayed']).toBeUndefined();
      } finally {
        await app.close();
      }
    });

    it.each([
      ['empty', ''],
      ['longer than 255 characters', 'k'.repeat(256)],
      ['not printable', 'a\tb'],
    ])('answers 400 to a key that is %s', async (_what, key) => {
      const id = await addCustomer('bad-key');
      const response = await sendEvent(id, { type: 'login' }, { 'idempotency-key': key });
      expect(response.statusCode).toBe(400);
      expect(paths(response.json())).toEqual(['headers.idempotency-key']);
    });

    it('answers a replayed key on any write route, e.g. PUT /customers/:id', async () => {
      const id = `profile-${run}`;
      const key = randomUUID();
      const put = () => kit.app.inject({ method: 'PUT', url: `/customers/${id}`, headers: { ...kit.auth, 'idempotency-key': key }, payload: { name: 'Ada' } });
      const first = await put();
      expect(first.statusCode).toBe(201);
      const again = await put();
      // Without the key the second PUT would answer 200 (updated): the replay is the first answer, 201.
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });
  });

  it("applies a purchase once per order id and an event once per body eventId, whatever the request", async () => {
    const id = await addCustomer('event-ids');
    const orderId = `order-${randomUUID()}`;
    expect((await sendEvent(id, { type: 'purchase', amount: 10, orderId })).json().event.eventId).toBe(`order:${orderId}`);
    expect((await sendEvent(id, { type: 'purchase', amount: 10, orderId }, { 'idempotency-key': randomUUID() })).statusCode).toBe(202);
    await stateWhen(`nurture-${id}`, (s) => s.details.points === 10, 'first purchase applied');
    const eventId = `shop-${randomUUID()}`;
    expect((await sendEvent(id, { type: 'purchase', amount: 20, eventId })).json().event.eventId).toBe(eventId);
    expect((await sendEvent(id, { type: 'purchase', amount: 20, eventId })).statusCode).toBe(202);
    expect((await sendEvent(id, { type: 'purchase', amount: 1 })).statusCode).toBe(202);
    // 10 + 20 + 1: each repeated event counted once (the last one shows every earlier one has been applied).
    await stateWhen(`nurture-${id}`, (s) => s.details.points === 31, 'later purchases applied');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await kit.app.inject({ method: 'GET', url: `/journeys/nurture-${id}`, headers: kit.auth })).json().details.points).toBe(31);
  });

  it('records an NPS answer once when the same response arrives many times at once', async () => {
    const id = await addCustomer('nps-burst');
    const responseId = `burst-${randomUUID()}`;
    // A slow read, as under load: every request looks for the answer before any has stored it.
    const app = await buildApp({
      config: kit.config,
      ctx: {
        ...kit.ctx,
        store: {
          ...kit.store,
          async listOutcomes(filter) {
            const rows = await kit.store.listOutcomes(filter);
            await new Promise((resolve) => setTimeout(resolve, 50));
            return rows;
          },
        },
      },
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => app.inject({ method: 'POST', url: `/customers/${id}/nps`, headers: kit.auth, payload: { score: 9, responseId } })),
      );
      expect(answers.every((a) => a.statusCode === 200 || a.statusCode === 201)).toBe(true);
      expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    } finally {
      await app.close();
    }
    expect(await kit.store.listOutcomes({ customerId: id, status: 'nps' })).toHaveLength(1);
  });

  it('describes its route in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = doc.paths['/customers/{id}/events']?.post;
    expect(operation).toMatchObject({ tags: ['events'], security: [{ apiToken: [] }] });
    expect(operation.responses).toHaveProperty('202');
    expect(JSON.stringify(operation.requestBody)).toContain('occurredAt');
  });

  it('documents Idempotency-Key on every marketer and support write route, and on no read route', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string; required?: boolean; description?: string }[]; responses: object }>>;
    };
    const keyed: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const header = operation.parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key');
        if (header) {
          expect(header.required).toBe(false);
          expect(header.description).toMatch(/Idempotent-Replayed/);
          expect(operation.responses).toHaveProperty('422');
          keyed.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    expect(keyed.sort()).toEqual([
      'POST /campaigns/nurture/start',
      'POST /campaigns/onboarding/start',
      'POST /campaigns/winback/start',
      'POST /complaints',
      'POST /complaints/{ticketId}/events',
      'POST /customers/import',
      'POST /customers/{id}/events',
      'POST /customers/{id}/journeys',
      'POST /customers/{id}/nps',
      'POST /journeys/{workflowId}/cancel',
      'PUT /customers/{id}',
      'PUT /customers/{id}/consent',
    ]);
  });
});
