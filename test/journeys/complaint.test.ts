import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import type { JourneyResult } from '../../src/shared/journey-types';
import { journeyStateQuery, supportUpdateSignal, surveyAnswerSignal } from '../../src/shared/messages';
import { startJourney } from '../../src/triggers/journeys';
import { complaintCampaign } from './complaint-campaign';
import { eventually } from '../harness/eventually';
import { seedCustomer, startJourneyKit, subjectsTo, type JourneyTestKit } from './journey-env';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Real time the workflow may spend on activities on top of the skipped time. */
const SLACK = 60_000;

const complaint = complaintCampaign;

interface Webhook {
  url: string;
  bodies: Record<string, unknown>[];
  idempotencyKeys: (string | undefined)[];
  close(): Promise<void>;
}

/** A local escalation endpoint that records the JSON it receives. */
async function startWebhook(): Promise<Webhook> {
  const bodies: Record<string, unknown>[] = [];
  const idempotencyKeys: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      idempotencyKeys.push(req.headers['idempotency-key'] as string | undefined);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/escalations`,
    bodies,
    idempotencyKeys,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}


/** Undoes quoted-printable soft line breaks so text in a raw email can be searched. */
const unfold = (raw: string) => raw.replace(/=\r?\n/g, '');

describe('complaint journey', () => {
  let kit: JourneyTestKit;
  let webhook: Webhook;
  beforeEach(async () => {
    kit = await startJourneyKit([complaint()]);
    webhook = await startWebhook();
    kit.deps.escalationWebhookUrl = webhook.url;
  });
  afterEach(async () => {
    await kit?.close();
    await webhook?.close();
  });

  const start = async (customerId: string, ticketId: string) => {
    const started = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, {
      stage: 'complaint',
      customerId,
      ticket: { id: ticketId, subject: 'Parcel arrived damaged' },
    });
    expect(started).toMatchObject({ workflowId: `complaint-${ticketId}`, started: true });
    return kit.env.client.workflow.getHandle<(input: unknown) => Promise<JourneyResult>>(started.workflowId);
  };
  const stepIs = (handle: WorkflowHandle, step: string) =>
    eventually(async () => {
      const state = await handle.query(journeyStateQuery);
      expect(state.currentStep).toBe(step);
      return state;
    });
  const emailsTo = (address: string) => kit.smtp.messages.filter((m) => m.envelope.to.includes(address));
  const smsTo = (phone: string) => kit.twilio.requests.filter((r) => r.form.To === phone).map((r) => r.form.Body ?? '');
  const outcomes = (workflowId: string) => kit.store.listOutcomes({ workflowId });

  it('acknowledges at once by SMS for an SMS customer and by email for an email customer', async () => {
    const bySms = await seedCustomer(kit.store, { preferredChannel: 'sms' });
    const byEmail = await seedCustomer(kit.store, { preferredChannel: 'email' });
    await kit.run(async () => {
      const smsHandle = await start(bySms.id, 'T-1');
      const emailHandle = await start(byEmail.id, 'T-2');
      await stepIs(smsHandle, 'awaiting-first-response');
      await stepIs(emailHandle, 'awaiting-first-response');

      const texts = smsTo(bySms.phone as string);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toContain('Shop: we received your request T-1 and are on it.');
      expect(emailsTo(bySms.email as string)).toHaveLength(0);

      expect(subjectsTo(kit.smtp, byEmail.email as string)).toEqual(["We've got your request (T-2)"]);
      expect(smsTo(byEmail.phone as string)).toHaveLength(0);

      // "At once": sent within seconds of the start, no timer in between.
      for (const handle of [smsHandle, emailHandle]) {
        const startedAt = (await handle.describe()).startTime.getTime();
        const [ack] = (await outcomes(handle.workflowId)).filter((o) => o.status === 'sent');
        expect(ack).toMatchObject({ step: 'acknowledge', stage: 'complaint', campaignId: 'complaint-test' });
        expect(ack!.occurredAt.getTime() - startedAt).toBeLessThan(SLACK);
      }
      expect((await outcomes(smsHandle.workflowId)).find((o) => o.status === 'sent')?.channel).toBe('sms');
      expect((await outcomes(emailHandle.workflowId)).find((o) => o.status === 'sent')?.channel).toBe('email');
      await smsHandle.terminate('test finished');
      await emailHandle.terminate('test finished');
    });
  });

  it('relays support updates, resolves, asks for CSAT and records the timings and a good rating', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email' });
    const address = customer.email as string;
    const result = await kit.run(async () => {
      const handle = await start(customer.id, 'T-10');
      await stepIs(handle, 'awaiting-first-response');

      await kit.env.sleep('2 hours');
      await handle.signal(supportUpdateSignal, { type: 'first-response', note: 'A replacement is on its way.' });
      await stepIs(handle, 'awaiting-resolution');
      await eventually(() => expect(emailsTo(address)).toHaveLength(2));
      expect(unfold(emailsTo(address)[1]!.raw)).toContain('A replacement is on its way.');

      await kit.env.sleep('1 day');
      await handle.signal(supportUpdateSignal, { type: 'resolved', note: 'Replacement delivered.' });
      await stepIs(handle, 'csat-survey');
      await handle.signal(surveyAnswerSignal, { survey: 'csat', rating: 5, comment: 'Great service' });
      const finished = await handle.result();
      await kit.saveHistory(handle.workflowId, 'complaint-resolved');
      return finished;
    });

    expect(result).toMatchObject({ outcome: 'resolved', messagesSent: 4, details: { ticketId: 'T-10', coreCustomer: false, csat: 5 } });
    const toFirstResponse = result.details.timeToFirstResponseMs as number;
    const toResolution = result.details.timeToResolutionMs as number;
    expect(toFirstResponse).toBeGreaterThanOrEqual(2 * HOUR);
    expect(toFirstResponse).toBeLessThan(2 * HOUR + SLACK);
    expect(toResolution).toBeGreaterThanOrEqual(DAY + 2 * HOUR);
    expect(toResolution).toBeLessThan(DAY + 2 * HOUR + 2 * SLACK);
    expect(result.details.recoveryOfferCode).toBeUndefined();
    expect(result.details.escalations).toBeUndefined();

    expect(subjectsTo(kit.smtp, address)).toEqual([
      "We've got your request (T-10)",
      'An update on your request T-10',
      'Resolved: your request T-10',
      `How did we do, ${customer.name}?`,
    ]);
    const rows = await outcomes('complaint-T-10');
    const firstResponse = rows.filter((o) => o.status === 'first_response');
    expect(firstResponse).toHaveLength(1);
    expect(firstResponse[0]!.value).toBe(toFirstResponse);
    expect(rows.filter((o) => o.status === 'resolved')).toHaveLength(1);
    const resolved = rows.find((o) => o.status === 'resolved' && o.step === 'resolved');
    expect(resolved).toMatchObject({ value: toResolution, data: { timeToFirstResponseMs: toFirstResponse } });
    const csat = rows.filter((o) => o.status === 'csat');
    expect(csat).toHaveLength(1);
    expect(csat[0]).toMatchObject({ value: 5, data: { comment: 'Great service' } });
    expect(rows.filter((o) => o.status === 'recovery')).toHaveLength(0);
    expect(rows.filter((o) => o.status === 'escalated')).toHaveLength(0);
    expect(rows.filter((o) => o.status === 'sent').map((o) => o.step)).toEqual(['acknowledge', 'update-1', 'resolved', 'csat-survey']);
  });

  it('relays every update that comes with the resolution, even before the acknowledgement has gone out', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'standard' });
    await kit.run(async () => {
      const handle = await start(customer.id, 'T-15');
      // The support system posts its whole history at once, right after opening the ticket.
      await handle.signal(supportUpdateSignal, { type: 'first-response', note: 'On it', eventId: 'e1' });
      await handle.signal(supportUpdateSignal, { type: 'update', note: 'Replacement shipped', eventId: 'e2' });
      await handle.signal(supportUpdateSignal, { type: 'resolved', eventId: 'e3' });
      // A retry of an update it already sent is relayed once.
      await handle.signal(supportUpdateSignal, { type: 'update', note: 'Replacement shipped', eventId: 'e2' });
      await stepIs(handle, 'csat-survey');
      await handle.terminate('test finished');
    });
    const rows = await outcomes('complaint-T-15');
    expect(rows.filter((o) => o.status === 'sent').map((o) => o.step)).toEqual(['acknowledge', 'update-1', 'update-2', 'resolved', 'csat-survey']);
    expect(rows.filter((o) => o.status === 'first_response')).toHaveLength(1);
    expect(rows.filter((o) => o.status === 'resolved')).toHaveLength(1);
  });

  it('escalates when the first-response SLA lapses: outcome, customer message and webhook', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'standard' });
    const address = customer.email as string;
    await kit.run(async () => {
      const handle = await start(customer.id, 'T-20');
      const state = await stepIs(handle, 'awaiting-first-response');
      const startedAt = (await handle.describe()).startTime.getTime();
      const dueAt = state.details.firstResponseDueAt as number;
      expect(state.details.coreCustomer).toBe(false);
      expect(dueAt - startedAt).toBeGreaterThanOrEqual(4 * HOUR);
      expect(dueAt - startedAt).toBeLessThan(4 * HOUR + SLACK);

      await kit.env.sleep('3 hours');
      expect(webhook.bodies).toHaveLength(0);
      await kit.env.sleep('61 minutes');
      await eventually(() => expect(webhook.bodies).toHaveLength(1));
      const { runId } = await handle.describe(); // no continue-as-new in a complaint: the first run is the current one
      expect(webhook.bodies[0]).toEqual({
        workflowId: 'complaint-T-20',
        runId,
        customerId: customer.id,
        ticketId: 'T-20',
        reason: 'first-response-sla',
        deadline: new Date(dueAt).toISOString(),
      });
      // A retried call carries the same key: the support system can tell it is the same escalation.
      expect(webhook.idempotencyKeys).toEqual([`complaint-T-20/${runId}/first-response-sla`]);
      await eventually(() => expect(subjectsTo(kit.smtp, address)).toEqual(["We've got your request (T-20)", 'Your request T-20 has been escalated']));
      const escalated = await eventually(async () => {
        const rows = (await outcomes(handle.workflowId)).filter((o) => o.status === 'escalated');
        expect(rows).toHaveLength(1);
        return rows[0]!;
      });
      expect(escalated).toMatchObject({ reason: 'first-response-sla', customerId: customer.id });
      const after = await stepIs(handle, 'awaiting-first-response');
      expect(after.details.escalations).toBe(1);
      await handle.terminate('test finished');
    });
  });

  it('gives a gold customer the shorter core SLA', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'gold' });
    await kit.run(async () => {
      const handle = await start(customer.id, 'T-30');
      const state = await stepIs(handle, 'awaiting-first-response');
      const startedAt = (await handle.describe()).startTime.getTime();
      const dueAt = state.details.firstResponseDueAt as number;
      expect(state.details.coreCustomer).toBe(true);
      expect(dueAt - startedAt).toBeGreaterThanOrEqual(HOUR);
      expect(dueAt - startedAt).toBeLessThan(HOUR + SLACK);
      expect((state.details.resolutionDueAt as number) - dueAt).toBe(DAY - HOUR);

      // The core deadline is the one enforced: escalated after one hour, not four.
      await kit.env.sleep('61 minutes');
      await eventually(() => expect(webhook.bodies).toHaveLength(1));
      expect(webhook.bodies[0]).toMatchObject({ ticketId: 'T-30', reason: 'first-response-sla', deadline: new Date(dueAt).toISOString() });
      await handle.terminate('test finished');
    });
  });

  it('sends a recovery offer after a low rating', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'sms' });
    const phone = customer.phone as string;
    const result = await kit.run(async () => {
      const handle = await start(customer.id, 'T-40');
      await stepIs(handle, 'awaiting-first-response');
      await kit.env.sleep('30 minutes');
      await handle.signal(supportUpdateSignal, { type: 'resolved', note: 'Refund issued.' });
      await stepIs(handle, 'csat-survey');
      await handle.signal(surveyAnswerSignal, { survey: 'csat', rating: 1 });
      return handle.result();
    });

    const code = result.details.recoveryOfferCode as string;
    expect(code).toMatch(/^CO-[0-9A-Z]+$/);
    expect(result).toMatchObject({ outcome: 'resolved', messagesSent: 4, details: { csat: 1 } });
    const texts = smsTo(phone);
    expect(texts).toHaveLength(4);
    expect(texts[3]).toContain(`Here's 20% off with code ${code}.`);
    const rows = await outcomes('complaint-T-40');
    const recovery = rows.filter((o) => o.status === 'recovery');
    expect(recovery).toHaveLength(1);
    expect(recovery[0]).toMatchObject({ value: 1, data: { offerCode: code } });
    expect(rows.find((o) => o.status === 'csat')?.value).toBe(1);
    expect(rows.find((o) => o.status === 'sent' && o.step === 'recovery')?.channel).toBe('sms');
  });

  it('records csat_timeout when no rating arrives', async () => {
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email' });
    const result = await kit.run(async () => {
      const handle = await start(customer.id, 'T-50');
      await stepIs(handle, 'awaiting-first-response');
      await handle.signal(supportUpdateSignal, { type: 'first-response' });
      await handle.signal(supportUpdateSignal, { type: 'resolved' });
      await stepIs(handle, 'csat-survey');
      return handle.result();
    });
    expect(result.outcome).toBe('resolved');
    expect(result.details.csat).toBeUndefined();
    const rows = await outcomes('complaint-T-50');
    const timeout = rows.filter((o) => o.status === 'csat_timeout');
    expect(timeout).toHaveLength(1);
    const resolvedAt = rows.find((o) => o.status === 'resolved' && o.step === 'resolved')!.occurredAt.getTime();
    expect(timeout[0]!.occurredAt.getTime() - resolvedAt).toBeGreaterThanOrEqual(3 * DAY);
    expect(rows.filter((o) => o.status === 'csat' || o.status === 'recovery')).toHaveLength(0);
  });
});
