import { Client, Connection } from '@temporalio/client';
import { surveyLink } from '../../src/delivery/survey-token';
import { unsubscribeUrl } from '../../src/delivery/unsubscribe-token';
import { openComplaint, reportComplaintProgress } from '../../src/triggers/complaints';
import type { TriggerContext } from '../../src/triggers/context';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { journeyRunId, startJourney } from '../../src/triggers/journeys';
import { deliverSignal, DELIVERY_TIMEOUT_MS, PendingSignalSchema } from '../../src/triggers/pending-signals';
import { relayPendingSignals, startSignalRelay } from '../../src/triggers/signal-relay';
import { HARNESS_ENV } from '../harness/env';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';
import { seedCustomer } from '../journeys/journey-env';
import { type ApiKit, complaintReaches, eventually, formPost, journeyStateOf, mutedOnboarding, pathOf, PUBLIC_BASE_URL, QUIET_COMPLAINT, startApiKit } from './api-kit';

const onboarding = mutedOnboarding('api-links-down-onboarding');


/**
 * The API reaches Temporal through a proxy the test cuts off (Temporal unreachable) and restores; the worker and the
 * test's own checks use the direct connection. The store is the same for both.
 */
describe('customer links while Temporal is unreachable', () => {
  let kit: ApiKit;
  let proxy: TcpProxy;
  let connection: Connection;
  let ctx: TriggerContext;
  let app: ApiApp;
  // Relay passes run on a clock a day apart, so a signal given back for later is due again at the next pass.
  let relayClock = Date.now();
  const relay = () => relayPendingSignals(ctx, { now: () => new Date((relayClock += 86_400_000)) });

  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [onboarding, QUIET_COMPLAINT] });
    proxy = await startTcpProxy(process.env[HARNESS_ENV.devServerAddress] as string);
    connection = await Connection.connect({ address: proxy.address });
    ctx = { ...kit.ctx, client: new Client({ connection }) };
    app = await buildApp({ config: kit.config, ctx });
  });
  afterEach(() => proxy.up());
  afterAll(async () => {
    await app?.close();
    await connection?.close();
    await proxy?.close();
    await kit?.close();
  });

  const state = (workflowId: string) => journeyStateOf(kit, workflowId);
  /** Relay passes until nothing is pending (the client reconnects on its own schedule once Temporal is back). */
  const relayUntilDone = () =>
    eventually(
      async () => {
        await relay();
        return (await kit.store.listSignals({ status: 'pending' })).length === 0 ? true : undefined;
      },
      60_000,
      'every kept signal delivered',
    );

  it('records an unsubscribe with a plain page, keeps the signal, and delivers it to the journey once Temporal is back', async () => {
    const customer = await seedCustomer(kit.store, { consentSms: false });
    const { workflowId } = await startJourney(kit.ctx.client, kit.ctx.catalog, kit.ctx.taskQueue, { stage: 'onboarding', customerId: customer.id });
    await eventually(async () => (await kit.store.listOutcomes({ workflowId, status: 'sent' }))[0], 20_000, 'welcome sent');
    expect((await state(workflowId))?.muted).toBe(false);

    proxy.down();
    const started = Date.now();
    const link = pathOf(unsubscribeUrl(PUBLIC_BASE_URL, kit.config.linkSigningSecret, customer.id, 'email'));
    const page = await app.inject({ method: 'POST', url: link, ...formPost({ 'List-Unsubscribe': 'One-Click' }) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('You are unsubscribed');
    expect(page.body).toContain('recorded your choice');
    expect(Date.now() - started).toBeLessThan(3 * DELIVERY_TIMEOUT_MS);
    const asJson = await app.inject({ method: 'POST', url: link, headers: { accept: 'application/json' } });
    expect(asJson.statusCode).toBe(200);
    expect(asJson.json()).toMatchObject({ status: 'unsubscribed' });

    // The choice is in the store at once; the journey has not heard of it yet.
    expect(await kit.store.getCustomer(customer.id)).toMatchObject({ consentEmail: false });
    const kept = (await kit.store.listSignals({ status: 'pending', kind: 'customer-event' })).filter((s) => JSON.stringify(s.payload).includes(customer.id));
    expect(kept).toHaveLength(2);
    expect((await state(workflowId))?.muted).toBe(false);

    // Still down: a pass gives the signals back for later, with the reason.
    expect(await relay()).toMatchObject({ delivered: 0 });
    const waiting = (await kit.store.listSignals({ status: 'pending' })).filter((s) => kept.some((k) => k.id === s.id));
    expect(waiting.every((s) => s.attempts === 1 && s.lastError !== null)).toBe(true);

    proxy.up();
    await relayUntilDone();
    await eventually(async () => ((await state(workflowId))?.muted ? true : undefined), 20_000, 'journey muted');
    const done = (await kit.store.listSignals({ status: 'done' })).filter((s) => kept.some((k) => k.id === s.id));
    expect(done.map((s) => s.result)).toEqual([`delivered to ${workflowId}`, `delivered to ${workflowId}`]);
    await kit.env.client.workflow.getHandle(workflowId).terminate('test finished');
  });

  it('records a survey answer with a plain page (202), delivers it to its run once Temporal is back; delivering it again changes nothing', async () => {
    const customer = await seedCustomer(kit.store);
    const ticketId = `D-${Date.now().toString(36)}`;
    const { workflowId } = await openComplaint(kit.ctx, { ticketId, customerId: customer.id });
    await complaintReaches(kit, workflowId, 'awaiting-first-response', 'complaint open');
    await reportComplaintProgress(kit.ctx, ticketId, { type: 'resolved', note: 'Refund issued.' });
    await complaintReaches(kit, workflowId, 'csat-survey', 'waiting for CSAT');
    const runId = await journeyRunId(kit.env.client, workflowId);
    const link = pathOf(surveyLink(PUBLIC_BASE_URL, kit.config.linkSigningSecret, { workflowId, runId }, 'csat', new Date(Date.now() + 86_400_000)));

    proxy.down();
    const form5 = await app.inject({ method: 'GET', url: link });
    expect(form5.statusCode).toBe(200);
    expect(form5.body).toContain('name="rating" value="5"');
    const answered = await app.inject({ method: 'POST', url: link, ...formPost({ rating: '4', comment: 'Kind people' }) });
    expect(answered.statusCode).toBe(202);
    expect(answered.headers['content-type']).toMatch(/^text\/html/);
    expect(answered.body).toContain('recorded your answer');
    const [kept] = (await kit.store.listSignals({ status: 'pending', kind: 'survey-answer' })).filter((s) => s.key.includes(workflowId));
    expect(kept?.payload).toMatchObject({ workflowId, runId, answer: { survey: 'csat', rating: 4, comment: 'Kind people' } });
    expect((await state(workflowId))?.details.csat).toBeUndefined();

    proxy.up();
    await relayUntilDone();
    const [done] = (await kit.store.listSignals({ status: 'done' })).filter((s) => s.id === kept?.id);
    expect(done?.result).toBe('recorded');
    expect(await kit.env.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'resolved', details: { csat: 4 } });

    // The same answer again (a relay whose claim lapsed mid-delivery): the journey already has it.
    expect(await deliverSignal(ctx, PendingSignalSchema.parse(kept?.payload))).toBe('already-recorded');
    const again = await app.inject({ method: 'POST', url: link, ...formPost({ rating: '4' }) });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('We already have your answer.');
    expect(await kit.store.listOutcomes({ workflowId, status: 'csat' })).toEqual([expect.objectContaining({ value: 4, data: { comment: 'Kind people' } })]);
  });

  it('gives the rest of a pass back at once when Temporal does not answer, instead of waiting out each one', async () => {
    for (let i = 0; i < 3; i++) {
      await kit.store.enqueueSignal({
        key: `customer-event/nobody-${i}/e-${i}`,
        kind: 'customer-event',
        payload: { kind: 'customer-event', customerId: `nobody-${i}`, event: { type: 'login', eventId: `e-${i}` } },
      });
    }
    proxy.down();
    const started = Date.now();
    const pass = await relay();
    expect(pass.delivered).toBe(0);
    expect(pass.retried).toBeGreaterThanOrEqual(3);
    expect(Date.now() - started).toBeLessThan(2 * DELIVERY_TIMEOUT_MS);
    proxy.up();
    await relayUntilDone();
    expect(await kit.store.listSignals({ status: 'pending' })).toEqual([]);
  });

  it('is drained by the relay every API instance runs, on its own, retrying until Temporal answers', async () => {
    const key = `customer-event/nobody-relay/e-relay`;
    const payload = { kind: 'customer-event', customerId: 'nobody-relay', event: { type: 'login', eventId: 'e-relay' } };
    await kit.store.enqueueSignal({ key, kind: 'customer-event', payload });
    proxy.down();
    const running = startSignalRelay(ctx, { intervalMs: 200 });
    try {
      await eventually(async () => ((await kit.store.listSignals({ status: 'pending' }))[0]?.lastError ?? undefined), 20_000, 'a failed attempt');
      proxy.up();
      const done = await eventually(async () => (await kit.store.listSignals({ status: 'done' })).find((s) => s.key === key), 60_000, 'delivered by the relay');
      expect(done).toMatchObject({ result: 'no running journey' });
      expect(done.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      await running.stop();
    }
  });
});
