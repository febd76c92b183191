import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type JourneyDeps } from '../../src/activities';
import { loadCatalog, parseDefinition, type CampaignCatalog } from '../../src/campaigns/catalog';
import type { JourneyResult } from '../../src/shared/journey-types';
import { journeyStateQuery, supportUpdateSignal, surveyAnswerSignal } from '../../src/shared/messages';
import { CampaignIdKey, CampaignStepKey, CustomerIdKey, LifecycleStageKey, OutcomeKey } from '../../src/shared/search-attributes';
import { cancelJourney, startJourney } from '../../src/triggers/journeys';
import { createStore, type Store } from '../../src/store';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTestWorker, devServerEnv, uniqueTaskQueue } from '../harness';
import { buildTestJourneyDeps } from '../harness/journey-deps';
import { complaintCampaign } from './complaint-campaign';
import { eventually } from '../harness/eventually';
import { seedCustomer } from './journey-env';

/**
 * The README offers ops the search attributes CustomerId, LifecycleStage, CampaignId, CampaignStep and Outcome as Web UI
 * filters (`LifecycleStage="winback" AND Outcome="churned"`) and a one-line summary in the memo. Asserted on journeys
 * run on the real dev server, whose visibility store answers the same list queries the Web UI sends.
 */
const campaign = complaintCampaign({ id: 'search-attributes-complaint', version: 3, coreTiers: [] });


describe('search attributes and memo of a journey (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let store: Store;
  let smtp: FakeSmtpServer;
  let twilio: FakeTwilioServer;
  let deps: JourneyDeps;
  let catalog: CampaignCatalog;
  const taskQueue = uniqueTaskQueue('search-attributes');

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'search-attributes-'));
    [env, smtp, twilio, store, catalog] = await Promise.all([
      devServerEnv(),
      startSmtpServer(),
      startTwilioServer(),
      createStore(`sqlite:${path.join(dir, 'store.sqlite')}`),
      loadCatalog(path.resolve('campaigns')),
    ]);
    await store.migrate();
    catalog.byId.set(campaign.id, parseDefinition(campaign, 'test'));
    deps = buildTestJourneyDeps({ store, smtp, twilio, client: env.client, taskQueue, catalog, dir });
  });
  afterAll(async () => {
    deps?.email.close();
    await Promise.allSettled([store?.close(), smtp?.close(), twilio?.close()]);
    await env?.teardown();
  });

  const start = async (customerId: string) => {
    // The dev server lives for the whole jest run: ticket ids of their own.
    const ticketId = `SA-${randomUUID()}`;
    const started = await startJourney(env.client, catalog, taskQueue, { stage: 'complaint', customerId, campaignId: campaign.id, ticket: { id: ticketId } });
    return env.client.workflow.getHandle<(input: unknown) => Promise<JourneyResult>>(started.workflowId);
  };
  /** What ops see on the journey: its search attributes and memo (DescribeWorkflowExecution). */
  const seen = async (handle: WorkflowHandle) => {
    const d = await handle.describe();
    const attributes = d.typedSearchAttributes;
    return {
      status: d.status.name,
      attributes: {
        CustomerId: attributes.get(CustomerIdKey),
        LifecycleStage: attributes.get(LifecycleStageKey),
        CampaignId: attributes.get(CampaignIdKey),
        CampaignStep: attributes.get(CampaignStepKey),
        Outcome: attributes.get(OutcomeKey),
      },
      memo: d.memo,
    };
  };
  /** The workflow ids a Web UI filter (a visibility list query) finds on this task queue. */
  const filter = async (query: string) => {
    const ids: string[] = [];
    for await (const info of env.client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ${query}` })) ids.push(info.workflowId);
    return ids;
  };
  const stepIs = (handle: WorkflowHandle, step: string) =>
    eventually(async () => expect((await handle.query(journeyStateQuery)).currentStep).toBe(step));

  it('sets Outcome and CampaignStep from the start, keeps them current while the journey waits, and ends with the outcome', async () => {
    const customer = await seedCustomer(store, { name: 'Ada Search', preferredChannel: 'email' });
    const handle = await start(customer.id);
    const identity = { CustomerId: customer.id, LifecycleStage: 'complaint', CampaignId: 'search-attributes-complaint' };

    // Started, no worker yet: every attribute is there already, so a filter finds the journey before its first task.
    expect((await seen(handle)).attributes).toEqual({ ...identity, CampaignStep: 'start', Outcome: 'in-progress' });
    await eventually(async () => expect(await filter(`CustomerId = "${customer.id}" AND Outcome = "in-progress" AND CampaignStep = "start"`)).toEqual([handle.workflowId]));

    const worker = await createTestWorker(env.nativeConnection, taskQueue, createActivities(deps));
    const result = await worker.runUntil(async () => {
      await stepIs(handle, 'awaiting-first-response');
      const waiting = await seen(handle);
      expect(waiting.attributes).toEqual({ ...identity, CampaignStep: 'awaiting-first-response', Outcome: 'in-progress' });
      // One line naming the stage, the customer and where the journey stands.
      expect(waiting.memo).toEqual({ summary: `complaint for Ada Search (${customer.id}): in-progress, variant control` });
      await eventually(async () =>
        expect(await filter(`LifecycleStage = "complaint" AND CampaignStep = "awaiting-first-response" AND CustomerId = "${customer.id}"`)).toEqual([handle.workflowId]),
      );

      await handle.signal(supportUpdateSignal, { type: 'first-response', note: 'On it.' });
      await stepIs(handle, 'awaiting-resolution');
      expect((await seen(handle)).attributes).toEqual({ ...identity, CampaignStep: 'awaiting-resolution', Outcome: 'in-progress' });

      await handle.signal(supportUpdateSignal, { type: 'resolved' });
      await stepIs(handle, 'csat-survey');
      await handle.signal(surveyAnswerSignal, { survey: 'csat', rating: 4 });
      return handle.result();
    });
    expect(result.outcome).toBe('resolved');

    const ended = await seen(handle);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.attributes).toEqual({ ...identity, CampaignStep: 'csat-survey', Outcome: 'resolved' });
    expect(ended.memo).toEqual({ summary: `complaint for Ada Search (${customer.id}): resolved, variant control` });
    // The README's kind of filter: stage and outcome.
    await eventually(async () => expect(await filter(`LifecycleStage = "complaint" AND Outcome = "resolved" AND CustomerId = "${customer.id}"`)).toEqual([handle.workflowId]));
    expect(await filter(`CustomerId = "${customer.id}" AND Outcome = "in-progress"`)).toEqual([]);
  });

  it('a cancelled journey carries Outcome "cancelled", and its memo says so', async () => {
    const customer = await seedCustomer(store, { name: 'Bo Cancel', preferredChannel: 'email' });
    const handle = await start(customer.id);
    const worker = await createTestWorker(env.nativeConnection, taskQueue, createActivities(deps));
    await worker.runUntil(async () => {
      await stepIs(handle, 'awaiting-first-response');
      await cancelJourney(env.client, handle.workflowId);
      await eventually(async () => expect((await handle.describe()).status.name).toBe('CANCELLED'));
    });
    const ended = await seen(handle);
    expect(ended.attributes).toMatchObject({ CustomerId: customer.id, LifecycleStage: 'complaint', Outcome: 'cancelled' });
    expect(ended.memo).toEqual({ summary: `complaint for Bo Cancel (${customer.id}): cancelled, variant control` });
    await eventually(async () => expect(await filter(`LifecycleStage = "complaint" AND Outcome = "cancelled" AND CustomerId = "${customer.id}"`)).toEqual([handle.workflowId]));
  });
});
