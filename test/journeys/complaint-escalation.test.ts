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

const campaign = complaintCampaign({
  id: 'complaint-escalation-test',
  sla: { firstResponse: '4 hours', resolution: '1 day' },
  coreSla: { firstResponse: '1 hour', resolution: '12 hours' },
});

interface WebhookCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** How the endpoint answers one call: an HTTP status, or the connection dropped before any answer. */
type Answer = number | 'drop';

interface Webhook {
  url: string;
  calls: WebhookCall[];
  close(): Promise<void>;
}

/** A support system's escalation endpoint on 127.0.0.1: answers the calls with `answers` in turn, then with `then`. */
async function startWebhook(answers: Answer[], then: Answer = 204): Promise<Webhook> {
  const calls: WebhookCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const answer = calls.length <= answers.length ? answers[calls.length - 1] : then;
      if (answer === 'drop') return req.socket.destroy();
      res.writeHead(answer as number, { 'content-type': 'application/json' });
      res.end(answer === 204 ? undefined : JSON.stringify({ error: `answered ${answer}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/escalations`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}


const realTime = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('complaint escalation', () => {
  // One time-skipping server for the file: every test ends its journeys, so none fires timers in a later test.
  let kit: JourneyTestKit;
  let webhook: Webhook | undefined;
  const handles: WorkflowHandle[] = [];
  beforeAll(async () => {
    kit = await startJourneyKit([campaign]);
  });
  afterEach(async () => {
    // A test that failed half-way leaves its journey running: stop it before the next test skips time.
    for (const handle of handles.splice(0)) {
      if ((await handle.describe()).status.name === 'RUNNING') await kit.expectRunningAndStop(handle.workflowId);
    }
    await webhook?.close();
    webhook = undefined;
  });
  afterAll(async () => {
    await kit?.close();
  });

  const useWebhook = async (answers: Answer[], then?: Answer) => {
    webhook = await startWebhook(answers, then);
    kit.deps.escalationWebhookUrl = webhook.url;
    return webhook;
  };
  const start = async (customerId: string, ticketId: string) => {
    const started = await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'complaint', customerId, ticket: { id: ticketId, subject: 'Late delivery' } });
    const handle = kit.env.client.workflow.getHandle<(input: unknown) => Promise<JourneyResult>>(started.workflowId);
    handles.push(handle);
    return handle;
  };
  const stepIs = (handle: WorkflowHandle, step: string) =>
    eventually(async () => {
      const state = await handle.query(journeyStateQuery);
      expect(state.currentStep).toBe(step);
      return state;
    });
  const escalatedRows = async (workflowId: string) => (await kit.store.listOutcomes({ workflowId })).filter((o) => o.status === 'escalated');
  /** Resolves the ticket and rates it: the journey must then end `resolved` (not failed). */
  const resolveAndRate = async (handle: WorkflowHandle<(input: unknown) => Promise<JourneyResult>>) => {
    await handle.signal(supportUpdateSignal, { type: 'resolved', note: 'Sorted.' });
    await stepIs(handle, 'csat-survey');
    await handle.signal(surveyAnswerSignal, { survey: 'csat', rating: 5 });
    return handle.result();
  };

  it('calls the webhook exactly once when the resolution SLA lapses, with the ticket, reason and deadline', async () => {
    const hook = await useWebhook([]);
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'standard' });
    const result = await kit.run(async () => {
      const handle = await start(customer.id, 'T-R1');
      await stepIs(handle, 'awaiting-first-response');
      // Answered in time: only the resolution SLA can lapse.
      await handle.signal(supportUpdateSignal, { type: 'first-response', note: 'Looking into it.' });
      const state = await stepIs(handle, 'awaiting-resolution');
      const description = await handle.describe();
      const dueAt = state.details.resolutionDueAt as number;
      expect(dueAt - description.startTime.getTime()).toBeGreaterThanOrEqual(DAY);
      expect(dueAt - description.startTime.getTime()).toBeLessThan(DAY + SLACK);

      await kit.env.sleep('23 hours');
      expect(hook.calls).toHaveLength(0);
      await kit.env.sleep('61 minutes');
      await eventually(() => expect(hook.calls).toHaveLength(1));
      expect(hook.calls[0]).toMatchObject({
        method: 'POST',
        path: '/escalations',
        headers: { 'content-type': 'application/json', 'idempotency-key': `complaint-T-R1/${description.runId}/resolution-sla` },
      });
      expect(hook.calls[0]?.body).toEqual({
        workflowId: 'complaint-T-R1',
        runId: description.runId, // a complaint never continues as new: its first run is the current one
        customerId: customer.id,
        ticketId: 'T-R1',
        reason: 'resolution-sla',
        deadline: new Date(dueAt).toISOString(),
      });
      await eventually(async () => expect(await escalatedRows(handle.workflowId)).toHaveLength(1));

      // Lapsed once, escalated once: days later there is still one call.
      await kit.env.sleep('2 days');
      await realTime(500);
      expect(hook.calls).toHaveLength(1);
      expect((await stepIs(handle, 'awaiting-resolution')).details.escalations).toBe(1);
      return resolveAndRate(handle);
    });

    expect(result).toMatchObject({ outcome: 'resolved', details: { escalations: 1, csat: 5 } });
    expect(await escalatedRows('complaint-T-R1')).toEqual([
      expect.objectContaining({ reason: 'resolution-sla', customerId: customer.id, data: { webhook: { status: 'delivered' } } }),
    ]);
    expect(subjectsTo(kit.smtp, customer.email as string)).toContain('Your request T-R1 has been escalated');
  });

  it('a 4xx from the webhook does not fail the journey: not retried, recorded on the escalated outcome, the journey goes on', async () => {
    const hook = await useWebhook([], 404);
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'standard' });
    const result = await kit.run(async () => {
      const handle = await start(customer.id, 'T-R2');
      await stepIs(handle, 'awaiting-first-response');
      await kit.env.sleep('241 minutes');
      await eventually(() => expect(hook.calls).toHaveLength(1));
      expect(hook.calls[0]?.body).toMatchObject({ ticketId: 'T-R2', reason: 'first-response-sla' });

      const [row] = await eventually(async () => {
        const rows = await escalatedRows(handle.workflowId);
        expect(rows).toHaveLength(1);
        return rows;
      });
      expect(row).toMatchObject({ reason: 'first-response-sla', data: { webhook: { status: 'refused', httpStatus: 404 } } });
      // The customer is still told, and the journey keeps waiting for support.
      await eventually(() => expect(subjectsTo(kit.smtp, customer.email as string)).toContain('Your request T-R2 has been escalated'));
      const state = await stepIs(handle, 'awaiting-first-response');
      expect(state.details.escalations).toBe(1);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // Longer than the activity's first retry interval (1 s): a refusal is final, nobody calls again.
      await realTime(2_500);
      expect(hook.calls).toHaveLength(1);
      return resolveAndRate(handle);
    });
    expect(result).toMatchObject({ outcome: 'resolved', details: { escalations: 1 } });
  });

  it('retries a dropped connection, a 5xx and a 429 with the same Idempotency-Key until the webhook takes the call', async () => {
    const hook = await useWebhook(['drop', 503, 429], 202);
    const customer = await seedCustomer(kit.store, { preferredChannel: 'email', tier: 'standard' });
    await kit.run(async () => {
      const handle = await start(customer.id, 'T-R3');
      await stepIs(handle, 'awaiting-first-response');
      await kit.env.sleep('241 minutes');
      // Temporal retries the activity (1, 2 and 4 s apart on the server clock: the journeys' retry policy).
      await eventually(() => expect(hook.calls).toHaveLength(4), 30_000);
      const { runId } = await handle.describe();
      expect(new Set(hook.calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([`complaint-T-R3/${runId}/first-response-sla`]));
      expect(new Set(hook.calls.map((c) => JSON.stringify(c.body))).size).toBe(1);

      const rows = await eventually(async () => {
        const found = await escalatedRows(handle.workflowId);
        expect(found).toHaveLength(1);
        return found;
      });
      expect(rows[0]).toMatchObject({ reason: 'first-response-sla', data: { webhook: { status: 'delivered' } } });
      expect((await stepIs(handle, 'awaiting-first-response')).details.escalations).toBe(1);
      await realTime(500);
      expect(hook.calls).toHaveLength(4);
      await handle.terminate('test finished');
    });
  });
});
