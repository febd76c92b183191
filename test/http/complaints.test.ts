import { journeyStateQuery } from '../../src/shared/messages';
import { ReplayCache, signSupportRequest } from '../../src/triggers/http/signatures';
import { seedCustomer } from '../journeys/journey-env';
import { eventually, QUIET_COMPLAINT, startApiKit, SUPPORT_SECRET, type ApiKit } from './api-kit';

let ticketCounter = 0;
const newTicket = () => `T-${Date.now().toString(36)}-${++ticketCounter}`;

describe('support system webhooks (HMAC signed)', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [QUIET_COMPLAINT] });
  });
  afterAll(() => kit?.close());

  const unixNow = () => Math.floor(Date.now() / 1000);

  /** Posts `body` signed as the support system does; `sign` overrides parts of the signing for negative tests. */
  const post = (url: string, body: unknown, sign: { secret?: string; timestamp?: number; signedBody?: string; headers?: Record<string, string> } = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const timestamp = sign.timestamp ?? unixNow();
    return kit.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'x-retention-timestamp': String(timestamp),
        'x-retention-signature': signSupportRequest(sign.secret ?? SUPPORT_SECRET, timestamp, sign.signedBody ?? raw),
        ...sign.headers,
      },
      payload: raw,
    });
  };
  const state = (workflowId: string) => kit.env.client.workflow.getHandle(workflowId).query(journeyStateQuery);
  // Until the journey has loaded its customer it has no query handler yet: keep polling.
  const stepIs = (workflowId: string, step: string) =>
    eventually(async () => ((await state(workflowId).catch(() => undefined))?.currentStep === step ? true : undefined), 20_000, `step ${step}`);
  const terminate = (workflowId: string) => kit.env.client.workflow.getHandle(workflowId).terminate('test finished').catch(() => undefined);

  it('starts a complaint for a good signature (201) and returns the same journey for a duplicate ticket (200)', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    const body = { ticketId, customerId: customer.id, subject: 'Parcel arrived damaged' };

    const signedAt = unixNow();
    const first = await post('/complaints', body, { timestamp: signedAt });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ workflowId: `complaint-${ticketId}`, started: true });

    // A new signature (fresh timestamp), same ticket: idempotent on the ticket id.
    const again = await post('/complaints', body, { timestamp: signedAt - 1 });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ workflowId: `complaint-${ticketId}`, started: false });
    expect(again.json().runId).toBe(first.json().runId);

    await stepIs(`complaint-${ticketId}`, 'awaiting-first-response');
    await terminate(`complaint-${ticketId}`);
  });

  it('refuses a wrong secret, a tampered body and missing or malformed headers with 401', async () => {
    const customer = await seedCustomer(kit.store);
    const body = { ticketId: newTicket(), customerId: customer.id };

    const wrongSecret = await post('/complaints', body, { secret: 'not-the-shared-secret-000' });
    expect(wrongSecret.statusCode).toBe(401);
    expect(wrongSecret.json().message).toMatch(/signature does not match/);

    const tampered = await post('/complaints', body, { signedBody: JSON.stringify({ ...body, customerId: 'someone-else' }) });
    expect(tampered.statusCode).toBe(401);

    const unsigned = await kit.app.inject({ method: 'POST', url: '/complaints', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.headers['www-authenticate']).toMatch(/x-retention-signature/);

    const malformed = await post('/complaints', body, { headers: { 'x-retention-signature': 'md5=abc' } });
    expect(malformed.statusCode).toBe(401);

    const events = await post(`/complaints/${body.ticketId}/events`, { type: 'resolved' }, { secret: 'not-the-shared-secret-000' });
    expect(events.statusCode).toBe(401);
    // Nothing was started by any of these.
    await expect(kit.env.client.workflow.getHandle(`complaint-${body.ticketId}`).describe()).rejects.toThrow();
  });

  it('refuses a correctly signed request whose timestamp is outside the tolerance (401 stale), either way', async () => {
    const customer = await seedCustomer(kit.store);
    const body = { ticketId: newTicket(), customerId: customer.id };
    const tolerance = kit.config.http.webhookToleranceMs / 1000;

    const old = await post('/complaints', body, { timestamp: unixNow() - tolerance - 60 });
    expect(old.statusCode).toBe(401);
    expect(old.json().message).toMatch(/stale/);

    const future = await post('/complaints', body, { timestamp: unixNow() + tolerance + 60 });
    expect(future.statusCode).toBe(401);
    expect(future.json().message).toMatch(/stale/);
  });

  it('refuses a replayed request (409) even when the first one failed on its input', async () => {
    const timestamp = unixNow();
    const body = { ticketId: newTicket(), customerId: 'nobody-by-this-id' };
    const first = await post('/complaints', body, { timestamp });
    expect(first.statusCode).toBe(404);
    expect(first.json().message).toMatch(/unknown customer nobody-by-this-id/);

    const replay = await post('/complaints', body, { timestamp });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().message).toMatch(/replayed/);
  });

  it('answers a well-signed but invalid body with 400 naming the fields', async () => {
    const bad = await post('/complaints', { ticketId: 'has spaces!', subject: 42 });
    expect(bad.statusCode).toBe(400);
    const paths = (bad.json().issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['body.ticketId', 'body.customerId', 'body.subject']));

    const badEvent = await post(`/complaints/${newTicket()}/events`, { type: 'closed' });
    expect(badEvent.statusCode).toBe(400);
    expect((badEvent.json().issues as { path: string }[]).map((i) => i.path)).toContain('body.type');

    const notJson = await post('/complaints', '{"ticketId":');
    expect(notJson.statusCode).toBe(400);
  });

  it('relays first response and resolution to the journey (202) and 404s a ticket without a complaint', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    const workflowId = `complaint-${ticketId}`;
    expect((await post('/complaints', { ticketId, customerId: customer.id })).statusCode).toBe(201);
    await stepIs(workflowId, 'awaiting-first-response');

    const firstResponse = await post(`/complaints/${ticketId}/events`, { type: 'first-response', note: 'A replacement is on its way.' });
    expect(firstResponse.statusCode).toBe(202);
    expect(firstResponse.json()).toEqual({ workflowId, type: 'first-response' });
    await stepIs(workflowId, 'awaiting-resolution');

    const resolved = await post(`/complaints/${ticketId}/events`, { type: 'resolved', note: 'Replacement delivered.' });
    expect(resolved.statusCode).toBe(202);
    await stepIs(workflowId, 'csat-survey');

    const rows = await kit.store.listOutcomes({ workflowId });
    expect(rows.filter((o) => o.status === 'first_response')).toHaveLength(1);
    expect(rows.filter((o) => o.status === 'resolved')).toHaveLength(1);
    expect((await state(workflowId)).details).toMatchObject({ ticketId, timeToFirstResponseMs: expect.any(Number), timeToResolutionMs: expect.any(Number) });

    const unknown = await post(`/complaints/${newTicket()}/events`, { type: 'update' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/no open complaint/);
    await terminate(workflowId);
  });

  it('documents the signature in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = doc.paths['/complaints'].post;
    expect(operation.security).toEqual([{ supportSignature: [] }]);
    expect(operation.description).toMatch(/HMAC-SHA256/);
    expect(doc.paths['/complaints/{ticketId}/events'].post.security).toEqual([{ supportSignature: [] }]);
  });
});

describe('ReplayCache', () => {
  it('refuses a key until it expires, forgets released keys and stays within its bound', () => {
    const cache = new ReplayCache(2);
    expect(cache.claim('a', 1_000, 0)).toBe(true);
    expect(cache.claim('a', 1_000, 500)).toBe(false);
    expect(cache.claim('a', 3_000, 1_001)).toBe(true);
    cache.release('a');
    expect(cache.claim('a', 3_000, 1_002)).toBe(true);
    expect(cache.claim('b', 3_000, 1_003)).toBe(true);
    // Full: the oldest claim makes room.
    expect(cache.claim('c', 3_000, 1_004)).toBe(true);
    expect(cache.size).toBe(2);
    expect(cache.claim('b', 3_000, 1_005)).toBe(false);
    expect(cache.claim('c', 3_000, 1_005)).toBe(false);
  });
});
