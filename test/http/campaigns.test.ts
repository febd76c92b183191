import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { JourneyState } from '../../src/shared/journey-types';
import { startJourney } from '../../src/triggers/journeys';
import { eventually, QUIET_NURTURE as NURTURE, QUIET_ONBOARDING as ONBOARDING, startApiKit, terminateJourneys, type ApiKit, type Issue } from './api-kit';

describe('HTTP API: campaigns and journeys', () => {
  let kit: ApiKit;
  const run = randomUUID().slice(0, 8);
  const customer = (name: string) => `${name}-${run}`;
  const touched: string[] = [];

  const post = (url: string, payload?: unknown, auth = true) =>
    kit.app.inject({ method: 'POST', url, headers: auth ? kit.auth : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const get = (url: string) => kit.app.inject({ method: 'GET', url, headers: kit.auth });
  const paths = (body: { issues?: Issue[] }) => (body.issues ?? []).map((i) => i.path).sort();
  const addCustomer = async (id: string) => {
    await kit.store.upsertCustomer({ id, name: id, email: `${id}@example.com`, consentEmail: true });
    touched.push(`onboarding-${id}`, `nurture-${id}`, `winback-${id}`);
    return id;
  };
  /** The journey's state once it has begun (409 while it is still loading its customer). */
  const stateOf = (workflowId: string): Promise<JourneyState> =>
    eventually(async () => {
      const response = await get(`/journeys/${workflowId}`);
      if (response.statusCode === 409) return undefined;
      expect(response.statusCode).toBe(200);
      return response.json();
    });

  beforeAll(async () => {
    kit = await startApiKit({ worker: true, campaigns: [ONBOARDING, NURTURE] });
  });
  afterAll(async () => {
    if (!kit) return;
    await terminateJourneys(kit, touched);
    await kit.close();
  });

  it.each([
    ['POST', '/campaigns/onboarding/start'],
    ['POST', '/customers/x/journeys'],
    ['GET', '/customers/x/journeys'],
    ['GET', '/journeys/onboarding-x'],
    ['POST', '/journeys/onboarding-x/cancel'],
  ] as const)('%s %s answers 401 without a token and 403 with a wrong one', async (method, url) => {
    expect((await kit.app.inject({ method, url })).statusCode).toBe(401);
    expect((await kit.app.inject({ method, url, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(403);
  });

  describe('POST /campaigns/:stage/start', () => {
    it('starts a stage for several customers with one result each, and never starts one twice', async () => {
      const [a, b] = [await addCustomer(customer('bulk-a')), await addCustomer(customer('bulk-b'))];
      const ghost = customer('bulk-ghost');
      const first = await post('/campaigns/onboarding/start', { customerIds: [a, b, ghost, a] });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toEqual({
        stage: 'onboarding',
        campaignId: 'api-test-welcome',
        results: [
          { customerId: a, workflowId: `onboarding-${a}`, result: 'started' },
          { customerId: b, workflowId: `onboarding-${b}`, result: 'started' },
          { customerId: ghost, workflowId: `onboarding-${ghost}`, result: 'unknown-customer' },
        ],
        counts: { started: 2, alreadyRunning: 0, alreadyRan: 0, unknownCustomer: 1 },
      });
      const state = await eventually(async () => {
        const s = await stateOf(`onboarding-${a}`);
        return s.messagesSent === 1 ? s : undefined;
      });
      expect(state).toMatchObject({ stage: 'onboarding', customerId: a, campaignId: 'api-test-welcome', outcome: 'in-progress' });
      await eventually(async () => (kit.smtp.messages.some((m) => m.envelope.to.includes(`${a}@example.com`)) ? true : undefined), 15_000, 'welcome email');

      const again = await post('/campaigns/onboarding/start', { customerIds: [a, b] });
      expect(again.statusCode).toBe(200);
      expect(again.json().counts).toEqual({ started: 0, alreadyRunning: 2, alreadyRan: 0, unknownCustomer: 0 });
    });

    it('answers for one customer by status: 201 started, 200 already running, 404 unknown, 409 already ran', async () => {
      const id = await addCustomer(customer('single'));
      const started = await post('/campaigns/onboarding/start', { customerIds: [id] });
      expect(started.statusCode).toBe(201);
      expect(started.json().results).toEqual([{ customerId: id, workflowId: `onboarding-${id}`, result: 'started' }]);

      const running = await post('/campaigns/onboarding/start', { customerIds: [id] });
      expect(running.statusCode).toBe(200);
      expect(running.json().results).toEqual([{ customerId: id, workflowId: `onboarding-${id}`, result: 'already-running' }]);

      const unknown = await post('/campaigns/onboarding/start', { customerIds: [customer('nobody')] });
      expect(unknown.statusCode).toBe(404);

      expect((await post(`/journeys/onboarding-${id}/cancel`)).statusCode).toBe(202);
      await eventually(async () => ((await kit.env.client.workflow.getHandle(`onboarding-${id}`).describe()).status.name !== 'RUNNING' ? true : undefined));
      const ran = await post('/campaigns/onboarding/start', { customerIds: [id] });
      expect(ran.statusCode).toBe(409);
      expect(ran.json().message).toMatch(/already ran/);
      const ranInBulk = await post('/campaigns/onboarding/start', { customerIds: [id, customer('nobody')] });
      expect(ranInBulk.statusCode).toBe(200);
      expect(ranInBulk.json().counts).toEqual({ started: 0, alreadyRunning: 0, alreadyRan: 1, unknownCustomer: 1 });
    });

    it.each([
      ['an unknown campaign', 'onboarding', { customerIds: ['x'], campaignId: 'no-such-campaign' }, ['body.campaignId']],
      ['a campaign of another stage', 'nurture', { customerIds: ['x'], campaignId: 'api-test-welcome' }, ['body.campaignId']],
      ['no customers', 'onboarding', { customerIds: [] }, ['body.customerIds']],
      ['too many customers', 'onboarding', { customerIds: Array.from({ length: 1001 }, (_, i) => `c${i}`) }, ['body.customerIds']],
      ['wrong types', 'onboarding', { customerIds: [1, null], campaignId: 7 }, ['body.campaignId', 'body.customerIds.0', 'body.customerIds.1']],
      ['a missing field', 'onboarding', { campaign: 'x' }, ['body', 'body.customerIds']],
      ['an extra-long id', 'onboarding', { customerIds: ['x'.repeat(10_000)] }, ['body.customerIds.0']],
    ])('answers 400 naming the field, not 500, to %s', async (_what, stage, payload, expected) => {
      const response = await post(`/campaigns/${stage}/start`, payload);
      expect(response.statusCode).toBe(400);
      expect(paths(response.json())).toEqual(expected);
    });

    it.each([['the complaint stage', 'complaint'], ['an unknown stage', 'upsell']])('has no start route for %s (404)', async (_what, stage) => {
      const response = await post(`/campaigns/${stage}/start`, { customerIds: ['x'] });
      expect(response.statusCode).toBe(404);
    });

    it('answers 400 to malformed JSON and 415 to an unknown content type', async () => {
      const badJson = await kit.app.inject({ method: 'POST', url: '/campaigns/onboarding/start', headers: { ...kit.auth, 'content-type': 'application/json' }, payload: '{"customerIds": [' });
      expect(badJson.statusCode).toBe(400);
      const xml = await kit.app.inject({ method: 'POST', url: '/campaigns/onboarding/start', headers: { ...kit.auth, 'content-type': 'application/xml' }, payload: '<x/>' });
      expect(xml.statusCode).toBe(415);
    });
  });

  describe('POST /customers/:id/journeys', () => {
    it('starts (201), answers a duplicate with the running journey (200, started: false), and 409 once it ran', async () => {
      const id = await addCustomer(customer('one'));
      const started = await post(`/customers/${id}/journeys`, { stage: 'onboarding' });
      expect(started.statusCode).toBe(201);
      expect(started.json()).toMatchObject({ workflowId: `onboarding-${id}`, started: true, result: 'started', runId: expect.any(String) });

      const duplicate = await post(`/customers/${id}/journeys`, { stage: 'onboarding', campaignId: 'api-test-welcome' });
      expect(duplicate.statusCode).toBe(200);
      expect(duplicate.json()).toEqual({ workflowId: `onboarding-${id}`, runId: started.json().runId, started: false, result: 'already-running' });

      await kit.env.client.workflow.getHandle(`onboarding-${id}`).terminate('test: journey over');
      const ran = await post(`/customers/${id}/journeys`, { stage: 'onboarding' });
      expect(ran.statusCode).toBe(409);
    });

    it('answers 404 for an unknown customer and 400 naming bad fields', async () => {
      const unknown = await post(`/customers/${customer('ghost')}/journeys`, { stage: 'nurture' });
      expect(unknown.statusCode).toBe(404);
      const id = await addCustomer(customer('fields'));
      const badCampaign = await post(`/customers/${id}/journeys`, { stage: 'nurture', campaignId: 'nope' });
      expect(badCampaign.statusCode).toBe(400);
      expect(paths(badCampaign.json())).toEqual(['body.campaignId']);
      const badStage = await post(`/customers/${id}/journeys`, { stage: 'complaint', extra: true });
      expect(badStage.statusCode).toBe(400);
      expect(paths(badStage.json())).toEqual(['body.stage']);
      expect((await post(`/customers/${id}/journeys`)).statusCode).toBe(400);
    });
  });

  describe('listing, state and cancellation', () => {
    it("lists a customer's journeys with live state, shows one, and cancels it", async () => {
      const id = await addCustomer(customer('list'));
      expect((await post(`/customers/${id}/journeys`, { stage: 'nurture' })).statusCode).toBe(201);
      const workflowId = `nurture-${id}`;

      const listed = await eventually(async () => {
        const response = await get(`/customers/${id}/journeys`);
        expect(response.statusCode).toBe(200);
        const journey = response.json().journeys.find((j: { workflowId: string }) => j.workflowId === workflowId);
        return journey?.state ? journey : undefined;
      });
      expect(listed).toMatchObject({ stage: 'nurture', campaignId: 'api-test-nurture', status: 'RUNNING', type: 'nurtureWorkflow', state: { stage: 'nurture', customerId: id } });

      const state = await stateOf(workflowId);
      expect(state).toMatchObject({ stage: 'nurture', customerId: id, campaignId: 'api-test-nurture', outcome: 'in-progress', details: { points: 0, tier: 'standard' } });

      const cancelled = await post(`/journeys/${workflowId}/cancel`);
      expect(cancelled.statusCode).toBe(202);
      expect(cancelled.json()).toEqual({ workflowId, status: 'CANCEL_REQUESTED' });
      await eventually(async () => {
        const response = await get(`/customers/${id}/journeys`);
        const journey = response.json().journeys.find((j: { workflowId: string }) => j.workflowId === workflowId);
        return journey && journey.status !== 'RUNNING' ? journey : undefined;
      });
      expect((await kit.env.client.workflow.getHandle(workflowId).describe()).status.name).toBe('CANCELLED');
      // The journey records why it stopped, so reports see the cancellation.
      const [row] = await eventually(async () => {
        const rows = await kit.store.listOutcomes({ workflowId, status: 'cancelled' });
        return rows.length > 0 ? rows : undefined;
      });
      expect(row).toMatchObject({ customerId: id, stage: 'nurture', campaignId: 'api-test-nurture', reason: 'cancelled by request' });
      const again = await post(`/journeys/${workflowId}/cancel`);
      expect(again.statusCode).toBe(409);
      expect(again.json().message).toMatch(/not running/);
    });

    it("neither shows nor cancels a workflow that is not one of this project's journeys (404)", async () => {
      const workflowId = `someone-elses-${Date.now().toString(36)}`;
      // Another application's workflow in the same namespace, on a task queue nobody here polls.
      const handle = await kit.env.client.workflow.start('invoiceWorkflow', { taskQueue: `other-app-${workflowId}`, workflowId, args: [] });
      try {
        expect((await get(`/journeys/${workflowId}`)).statusCode).toBe(404);
        const cancel = await post(`/journeys/${workflowId}/cancel`);
        expect(cancel.statusCode).toBe(404);
        expect(cancel.json().message).toBe(`no journey ${workflowId}`);
        const history = await handle.fetchHistory();
        const types = (history.events ?? []).map((e) => e.eventType);
        expect(types).not.toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
        expect((await handle.describe()).status.name).toBe('RUNNING');
      } finally {
        await handle.terminate('test finished');
      }
    });

    it('answers 404 for unknown customers and journeys, 400 for bad parameters', async () => {
      expect((await get(`/customers/${customer('ghost')}/journeys`)).statusCode).toBe(404);
      expect((await get(`/journeys/onboarding-${customer('ghost')}`)).statusCode).toBe(404);
      expect((await post(`/journeys/onboarding-${customer('ghost')}/cancel`)).statusCode).toBe(404);
      const id = await addCustomer(customer('params'));
      for (const limit of ['0', 'abc', '1000']) {
        const response = await get(`/customers/${id}/journeys?limit=${limit}`);
        expect(response.statusCode).toBe(400);
        expect(paths(response.json())).toEqual(['querystring.limit']);
      }
      // A journey that failed before it began has no state to show.
      const orphan = customer('orphan');
      touched.push(`nurture-${orphan}`);
      const { workflowId } = await startJourney(kit.env.client, kit.catalog, kit.ctx.taskQueue, { stage: 'nurture', customerId: orphan });
      await eventually(async () => ((await kit.env.client.workflow.getHandle(workflowId).describe()).status.name === 'FAILED' ? true : undefined));
      const noState = await get(`/journeys/${workflowId}`);
      expect(noState.statusCode).toBe(409);
      expect(noState.json().message).toMatch(/no state/);

      const long = await get(`/journeys/${'w'.repeat(90)}x${'w'.repeat(9)}`);
      expect(long.statusCode).toBe(404);
      expect((await get(`/journeys/${'w'.repeat(5_000)}`)).statusCode).toBe(414);
    });
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, method] of [
      ['/campaigns/onboarding/start', 'post'],
      ['/campaigns/nurture/start', 'post'],
      ['/campaigns/winback/start', 'post'],
      ['/customers/{id}/journeys', 'post'],
      ['/customers/{id}/journeys', 'get'],
      ['/journeys/{workflowId}', 'get'],
      ['/journeys/{workflowId}/cancel', 'post'],
    ]) {
      expect(doc.paths[path as string]?.[method as string]).toMatchObject({ tags: ['campaigns'], security: [{ apiToken: [] }] });
    }
    expect(doc.paths['/campaigns/complaint/start']).toBeUndefined();
    // Each start lists the campaigns it accepts: the shipped ones (campaigns/*.json) and this test's two.
    const campaignsOf = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema.properties.campaignId.enum.sort();
    expect(campaignsOf('/campaigns/onboarding/start')).toEqual(['api-test-welcome', 'welcome-series']);
    expect(campaignsOf('/campaigns/nurture/start')).toEqual(['api-test-nurture', 'steady-nurture']);
    expect(campaignsOf('/campaigns/winback/start')).toEqual(['winback-classic']);
    expect(Object.keys(doc.paths['/customers/{id}/journeys'].post.responses)).toEqual(expect.arrayContaining(['200', '201', '404', '409']));
  });
});
