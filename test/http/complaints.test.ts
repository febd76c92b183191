import { createHmac } from 'node:crypto';
import { journeyStateQuery } from '../../src/shared/messages';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { seedCustomer } from '../journeys/journey-env';
import { eventually, QUIET_COMPLAINT, startApiKit, SUPPORT_SECRET, type ApiKit } from './api-kit';

/** Signed as the route description documents it, independently of the code under test. */
const sign = (secret: string, timestamp: number, method: string, path: string, rawBody: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${method}.${path}.${rawBody}`).digest('hex')}`;

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
  const post = (
    url: string,
    body: unknown,
    signing: { secret?: string; timestamp?: number; signedBody?: string; signedUrl?: string; headers?: Record<string, string>; app?: ApiApp } = {},
  ) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const timestamp = signing.timestamp ?? unixNow();
    return (signing.app ?? kit.app).inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'x-retention-timestamp': String(timestamp),
        'x-retention-signature': sign(signing.secret ?? SUPPORT_SECRET, timestamp, 'POST', signing.signedUrl ?? url, signing.signedBody ?? raw),
        ...signing.headers,
      },
      payload: raw,
    });
  };
  /** Another API instance (or the same one after a restart) over the same store and Temporal. */
  const anotherInstance = () => buildApp({ config: kit.config, ctx: kit.ctx });
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

  it('checks the signature over the body bytes as sent, not over a re-serialisation', async () => {
    const raw = '{\n  "type" : "update",\n  "note": "caf\\u00e9"\n}';
    // Signed correctly, so it gets past the signature to the ticket lookup (no complaint has this ticket).
    const response = await post(`/complaints/${newTicket()}/events`, raw);
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toMatch(/no open complaint/);
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

  it('refuses a request whose timestamp was changed after signing (the timestamp is signed too)', async () => {
    const customer = await seedCustomer(kit.store);
    const body = { ticketId: newTicket(), customerId: customer.id };
    // Both times are within the tolerance: only the signature can refuse it.
    const signedAt = unixNow() - 30;
    const restamped = await post('/complaints', body, { timestamp: signedAt, headers: { 'x-retention-timestamp': String(signedAt + 30) } });
    expect(restamped.statusCode).toBe(401);
    expect(restamped.json().message).toMatch(/signature does not match/);
  });

  it('refuses a signed "resolved" pointed at another ticket: the method and path are signed too', async () => {
    const [mine, other] = [await seedCustomer(kit.store), await seedCustomer(kit.store)];
    const [myTicket, otherTicket] = [newTicket(), newTicket()];
    expect((await post('/complaints', { ticketId: myTicket, customerId: mine.id })).statusCode).toBe(201);
    expect((await post('/complaints', { ticketId: otherTicket, customerId: other.id })).statusCode).toBe(201);
    await stepIs(`complaint-${otherTicket}`, 'awaiting-first-response');

    const redirected = await post(`/complaints/${otherTicket}/events`, { type: 'resolved' }, { signedUrl: `/complaints/${myTicket}/events` });
    expect(redirected.statusCode).toBe(401);
    expect(redirected.json().message).toMatch(/signature does not match/);
    expect((await state(`complaint-${otherTicket}`)).currentStep).toBe('awaiting-first-response');
    await terminate(`complaint-${myTicket}`);
    await terminate(`complaint-${otherTicket}`);
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
    // Without an eventId or Idempotency-Key the signature identifies the event: a retry of this signed request is the same event.
    expect(firstResponse.json()).toEqual({ workflowId, type: 'first-response', eventId: expect.stringMatching(/^signature:sha256=[0-9a-f]{64}$/) });
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

  it('refuses a signed request replayed to a second API instance over the same store (409)', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    const body = { ticketId, customerId: customer.id };
    const timestamp = unixNow();
    const second = await anotherInstance();
    try {
      expect((await post('/complaints', body, { timestamp })).statusCode).toBe(201);
      const replay = await post('/complaints', body, { timestamp, app: second });
      expect(replay.statusCode).toBe(409);
      expect(replay.json().message).toMatch(/replayed/);
    } finally {
      await second.close();
    }
    await terminate(`complaint-${ticketId}`);
  });

  it('refuses a signed request replayed after the API restarted (409)', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    const body = { ticketId, customerId: customer.id };
    const timestamp = unixNow();
    const before = await anotherInstance();
    expect((await post('/complaints', body, { timestamp, app: before })).statusCode).toBe(201);
    await before.close();

    const restarted = await anotherInstance();
    try {
      const replay = await post('/complaints', body, { timestamp, app: restarted });
      expect(replay.statusCode).toBe(409);
    } finally {
      await restarted.close();
    }
    await terminate(`complaint-${ticketId}`);
  });

  it('lets a signed request that failed on our side (500) be retried as it was signed, on any instance', async () => {
    const ticketId = newTicket();
    const customer = await seedCustomer(kit.store);
    expect((await post('/complaints', { ticketId, customerId: customer.id })).statusCode).toBe(201);
    await stepIs(`complaint-${ticketId}`, 'awaiting-first-response');
    const unavailable = { workflow: { getHandle: () => ({ signal: () => Promise.reject(new Error('Temporal is unavailable')) }) } };
    const failing = await buildApp({ config: kit.config, ctx: { ...kit.ctx, client: unavailable as unknown as ApiKit['ctx']['client'] } });
    const timestamp = unixNow();
    const signed = { timestamp, headers: { 'idempotency-key': `retry-${ticketId}` } };
    try {
      expect((await post(`/complaints/${ticketId}/events`, { type: 'first-response' }, { ...signed, app: failing })).statusCode).toBe(500);
    } finally {
      await failing.close();
    }
    const retry = await post(`/complaints/${ticketId}/events`, { type: 'first-response' }, signed);
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    await stepIs(`complaint-${ticketId}`, 'awaiting-resolution');
    await terminate(`complaint-${ticketId}`);
  });

  it('replays the first answer to a retry signed anew with the same Idempotency-Key; another request with the key is 422', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    expect((await post('/complaints', { ticketId, customerId: customer.id })).statusCode).toBe(201);
    await stepIs(`complaint-${ticketId}`, 'awaiting-first-response');
    const key = `support-${ticketId}`;
    const url = `/complaints/${ticketId}/events`;
    const update = { type: 'first-response', note: 'On it.' };

    const signedAt = unixNow();
    const first = await post(url, update, { timestamp: signedAt, headers: { 'idempotency-key': key } });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ type: 'first-response', eventId: `idem:${key}` });
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    // A fresh timestamp makes a fresh signature: only the key says it is the same request.
    const retry = await post(url, update, { timestamp: signedAt - 1, headers: { 'idempotency-key': key } });
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);

    const other = await post(url, { type: 'resolved' }, { timestamp: signedAt - 2, headers: { 'idempotency-key': key } });
    expect(other.statusCode).toBe(422);
    await terminate(`complaint-${ticketId}`);
  });

  it("passes the body's eventId to the journey ahead of the Idempotency-Key", async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = newTicket();
    expect((await post('/complaints', { ticketId, customerId: customer.id })).statusCode).toBe(201);
    const response = await post(`/complaints/${ticketId}/events`, { type: 'update', eventId: 'zendesk-evt-1' }, { headers: { 'idempotency-key': `key-${ticketId}` } });
    expect(response.statusCode).toBe(202);
    expect(response.json().eventId).toBe('zendesk-evt-1');
    await terminate(`complaint-${ticketId}`);
  });

  it('documents the signature in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = doc.paths['/complaints'].post;
    expect(operation.security).toEqual([{ supportSignature: [] }]);
    expect(operation.description).toMatch(/HMAC-SHA256/);
    expect(doc.paths['/complaints/{ticketId}/events'].post.security).toEqual([{ supportSignature: [] }]);
    for (const path of ['/complaints', '/complaints/{ticketId}/events']) {
      expect(doc.paths[path].post.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'idempotency-key', required: false }));
    }
  });
});
