import { randomUUID } from 'node:crypto';
import { computeReport } from '../../src/reports/compute';
import type { JourneyState } from '../../src/shared/journey-types';
import { eventually, QUIET_NURTURE as NURTURE, QUIET_ONBOARDING as ONBOARDING, startApiKit, terminateJourneys, type ApiKit, type Issue } from './api-kit';

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
    const none = await kit.app.inject({ method: 'POST', url: `/customers/${id}/events`, payload: { type: 'login' } });
    expect(none.statusCode).toBe(401);
    const wrong = await kit.app.inject({ method: 'POST', url: `/customers/${id}/events`, headers: { authorization: 'Bearer nope' }, payload: { type: 'login' } });
    expect(wrong.statusCode).toBe(403);
    const before = await kit.store.getCustomer(id);
    expect((await kit.store.getCustomer(id))?.lastActivityAt).toEqual(before?.lastActivityAt);
  });

  it('a purchase with no journey starts nurture with it (signal-with-start); the state query shows the points', async () => {
    const id = await addCustomer('buyer');
    const response = await sendEvent(id, { type: 'purchase', amount: 120, orderId: 'order-1' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ event: { type: 'purchase', amount: 120, orderId: 'order-1' }, deliveredTo: [`nurture-${id}`] });

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

  it('stores consent changes and activity times', async () => {
    const id = await addCustomer('settings');
    const unsubscribe = await sendEvent(id, { type: 'unsubscribe', channel: 'sms' });
    expect(unsubscribe.statusCode).toBe(202);
    expect(unsubscribe.json()).toEqual({ event: { type: 'unsubscribe', channel: 'sms' }, deliveredTo: [] });
    expect(await kit.store.getCustomer(id)).toMatchObject({ consentEmail: true, consentSms: false });
    expect((await sendEvent(id, { type: 'unsubscribe' })).json().event).toEqual({ type: 'unsubscribe', channel: 'all' });
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

  it('describes its route in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = doc.paths['/customers/{id}/events']?.post;
    expect(operation).toMatchObject({ tags: ['events'], security: [{ apiToken: [] }] });
    expect(operation.responses).toHaveProperty('202');
    expect(JSON.stringify(operation.requestBody)).toContain('occurredAt');
  });
});
