import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, ScheduleNotFoundError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { UserFacingError } from '../../src/cli-errors';
import { loadCatalog, type CampaignCatalog } from '../../src/campaigns/catalog';
import { runCli } from '../../src/triggers/cli';
import { WINBACK_SWEEP_SCHEDULE_ID } from '../../src/triggers/schedules';
import { setupTemporal, type SetupSummary } from '../../src/triggers/setup';
import { ensureNamespace } from '../../src/triggers/setup/namespace';
import { ensureSearchAttributes } from '../../src/triggers/setup/search-attributes';
import { CustomerIdKey, OutcomeKey } from '../../src/shared/search-attributes';
import { devServerEnv, uniqueTaskQueue } from '../harness';
import { eventually } from '../harness/eventually';
import { HARNESS_ENV } from '../harness/env';

const { IndexedValueType } = temporal.api.enums.v1;
const DAY_S = 86_400;

/** What the product filters on, written out here rather than read from src/shared/search-attributes.ts. */
const EXPECTED_ATTRIBUTES = {
  CustomerId: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  LifecycleStage: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  CampaignId: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  CampaignStep: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Outcome: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
};

const freshNamespace = (what: string) => `setup-${what}-${randomUUID().slice(0, 8)}`;

let env: TestWorkflowEnvironment;
let catalog: CampaignCatalog;
const clients: Client[] = [];

function clientFor(namespace: string): Client {
  const client = new Client({ connection: env.connection, namespace });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  [env, catalog] = await Promise.all([devServerEnv(), loadCatalog(path.resolve('campaigns'))]);
});

afterAll(async () => {
  for (const client of clients) {
    await client.schedule
      .getHandle(WINBACK_SWEEP_SCHEDULE_ID)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
  await env?.teardown();
});

const retentionSeconds = async (namespace: string) =>
  Number((await env.connection.workflowService.describeNamespace({ namespace })).config?.workflowExecutionRetentionTtl?.seconds);

const listedAttributes = async (namespace: string) =>
  (await env.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};

async function scheduleShape(client: Client) {
  const { spec, action, policies, state } = await client.schedule.getHandle(WINBACK_SWEEP_SCHEDULE_ID).describe();
  return { spec, action, policies, state };
}

describe('setupTemporal (dev server)', () => {
  it('creates the namespace, registers the search attributes and creates the schedule; a second run changes nothing', async () => {
    const namespace = freshNamespace('new');
    const client = clientFor(namespace);
    const taskQueue = uniqueTaskQueue('setup');
    const lines: string[] = [];

    const first = await setupTemporal(client, { taskQueue, catalog }, (line) => lines.push(line));

    expect(first.namespace).toEqual({ namespace, action: 'created', retentionDays: 30 });
    expect(first.searchAttributes).toEqual(Object.keys(EXPECTED_ATTRIBUTES).map((name) => ({ name, type: 'Keyword', action: 'registered' })));
    expect(first.schedules).toEqual([expect.objectContaining({ scheduleId: WINBACK_SWEEP_SCHEDULE_ID, action: 'created' })]);
    expect(lines).toEqual([
      `namespace ${namespace}: created (retention 30 days)`,
      'search attribute CustomerId (Keyword): registered',
      'search attribute LifecycleStage (Keyword): registered',
      'search attribute CampaignId (Keyword): registered',
      'search attribute CampaignStep (Keyword): registered',
      'search attribute Outcome (Keyword): registered',
      expect.stringMatching(/^schedule winback-sweep-daily created: daily at 06:00 UTC: start win-back \(winback-classic\)/),
    ]);

    expect(await retentionSeconds(namespace)).toBe(30 * DAY_S);
    const attributes = await listedAttributes(namespace);
    expect(attributes).toMatchObject(EXPECTED_ATTRIBUTES);
    const schedule = await scheduleShape(client);
    expect(schedule.action).toMatchObject({ workflowType: 'winbackSweepWorkflow', taskQueue });

    // Another retention is asked for: an existing namespace keeps its own.
    const second: SetupSummary = await setupTemporal(client, { taskQueue, catalog, retentionDays: 7 });
    expect(second.namespace).toEqual({ namespace, action: 'exists', retentionDays: 30 });
    expect(second.searchAttributes.map((a) => a.action)).toEqual(['present', 'present', 'present', 'present', 'present']);
    expect(second.schedules).toEqual([expect.objectContaining({ scheduleId: WINBACK_SWEEP_SCHEDULE_ID, action: 'updated' })]);
    expect(await retentionSeconds(namespace)).toBe(30 * DAY_S);
    expect(await listedAttributes(namespace)).toEqual(attributes);
    expect(await scheduleShape(client)).toEqual(schedule);
  });

  it('refuses a namespace where a search attribute has another type, naming it, before registering anything', async () => {
    const namespace = freshNamespace('conflict');
    await env.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await eventually(async () => {
      await env.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { CustomerId: IndexedValueType.INDEXED_VALUE_TYPE_INT },
      });
    }, 20_000);
    await eventually(async () => expect(await listedAttributes(namespace)).toMatchObject({ CustomerId: IndexedValueType.INDEXED_VALUE_TYPE_INT }), 20_000);
    const client = clientFor(namespace);

    const failure = setupTemporal(client, { taskQueue: uniqueTaskQueue('setup'), catalog });
    await expect(failure).rejects.toBeInstanceOf(UserFacingError);
    await expect(failure).rejects.toThrow(`search attribute CustomerId exists in namespace ${namespace} as Int, but the product needs Keyword`);
    expect(Object.keys(await listedAttributes(namespace))).toEqual(['CustomerId']);
    await expect(client.schedule.getHandle(WINBACK_SWEEP_SCHEDULE_ID).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('`retention setup --json` prepares the configured namespace with the retention asked for and prints the summary', async () => {
    const namespace = freshNamespace('cli');
    clientFor(namespace);
    const run = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env: {
          TEMPORAL_ADDRESS: process.env[HARNESS_ENV.devServerAddress],
          TEMPORAL_NAMESPACE: namespace,
          TEMPORAL_TASK_QUEUE: uniqueTaskQueue('setup-cli'),
          CAMPAIGNS_DIR: path.resolve('campaigns'),
        },
      });
      return { code, stdout, stderr };
    };

    const json = await run(['setup', '--json', '--retention', '7']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const summary = JSON.parse(json.stdout) as SetupSummary;
    expect(summary.namespace).toEqual({ namespace, action: 'created', retentionDays: 7 });
    expect(summary.searchAttributes).toHaveLength(5);
    expect(summary.searchAttributes.every((a) => a.action === 'registered')).toBe(true);
    expect(summary.schedules).toEqual([expect.objectContaining({ scheduleId: WINBACK_SWEEP_SCHEDULE_ID, action: 'created' })]);
    expect(await retentionSeconds(namespace)).toBe(7 * DAY_S);
    expect(await listedAttributes(namespace)).toMatchObject(EXPECTED_ATTRIBUTES);

    const lines = await run(['setup']);
    expect(lines.code).toBe(0);
    expect(lines.stdout.split('\n')).toEqual([
      `namespace ${namespace}: exists (retention 7 days)`,
      'search attribute CustomerId (Keyword): present',
      'search attribute LifecycleStage (Keyword): present',
      'search attribute CampaignId (Keyword): present',
      'search attribute CampaignStep (Keyword): present',
      'search attribute Outcome (Keyword): present',
      expect.stringMatching(/^schedule winback-sweep-daily updated: daily at 06:00 UTC/),
      '',
    ]);
  });
});


/** An error shaped like the ones the gRPC client rejects with. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

const PERMISSION_DENIED = 7;
const NOT_FOUND = 5;

describe('setup against servers that refuse or lag (fakes)', () => {
  it('says to create the namespace in the Cloud console when the server refuses to register it', async () => {
    const workflowService = {
      describeNamespace: jest.fn().mockRejectedValue(grpcError(NOT_FOUND, 'Namespace my-ns.acct not found.')),
      registerNamespace: jest.fn().mockRejectedValue(grpcError(PERMISSION_DENIED, 'Request unauthorized.')),
    };
    const failure = ensureNamespace({ workflowService } as never, 'my-ns.acct', { retentionDays: 30, waitMs: 1000 });
    await expect(failure).rejects.toBeInstanceOf(UserFacingError);
    await expect(failure).rejects.toThrow(/namespace my-ns\.acct does not exist .*Request unauthorized.*created in the Cloud console/);
  });

  it('waits until a namespace it created is served', async () => {
    let served = false;
    const notYet = () => Promise.reject(grpcError(NOT_FOUND, 'Namespace fresh not found.'));
    const workflowService = {
      describeNamespace: jest.fn().mockImplementationOnce(notYet).mockResolvedValue({}),
      registerNamespace: jest.fn().mockResolvedValue({}),
      listWorkflowExecutions: jest.fn().mockImplementationOnce(notYet).mockImplementationOnce(notYet).mockImplementation(() => {
        served = true;
        return Promise.resolve({});
      }),
    };
    const ensured = await ensureNamespace({ workflowService } as never, 'fresh', { retentionDays: 3, waitMs: 10_000 });
    expect(ensured).toEqual({ namespace: 'fresh', action: 'created', retentionDays: 3 });
    expect(served).toBe(true);
    expect(workflowService.registerNamespace).toHaveBeenCalledWith(expect.objectContaining({ namespace: 'fresh' }));
    expect(Number(workflowService.registerNamespace.mock.calls[0][0].workflowExecutionRetentionPeriod.seconds)).toBe(3 * DAY_S);
  });

  it('says to add the search attributes in the Cloud UI or with tcld when the server refuses to register them', async () => {
    const operatorService = {
      listSearchAttributes: jest.fn().mockResolvedValue({ customAttributes: {} }),
      addSearchAttributes: jest.fn().mockRejectedValue(grpcError(PERMISSION_DENIED, 'Request unauthorized.')),
    };
    const failure = ensureSearchAttributes({ operatorService } as never, 'ns', [CustomerIdKey, OutcomeKey], { waitMs: 1000 });
    await expect(failure).rejects.toBeInstanceOf(UserFacingError);
    await expect(failure).rejects.toThrow(/search attributes CustomerId, Outcome in namespace ns .*Cloud UI .*tcld/);
  });

  it('waits until registered search attributes are listed, and gives up after the bounded wait', async () => {
    const keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    const lagging = {
      listSearchAttributes: jest
        .fn()
        .mockResolvedValueOnce({ customAttributes: {} })
        .mockResolvedValueOnce({ customAttributes: {} })
        .mockResolvedValue({ customAttributes: { CustomerId: keyword } }),
      addSearchAttributes: jest.fn().mockResolvedValue({}),
    };
    const ensured = await ensureSearchAttributes({ operatorService: lagging } as never, 'ns', [CustomerIdKey], { waitMs: 10_000 });
    expect(ensured).toEqual([{ name: 'CustomerId', type: 'Keyword', action: 'registered' }]);
    expect(lagging.addSearchAttributes).toHaveBeenCalledWith({ namespace: 'ns', searchAttributes: { CustomerId: keyword } });
    expect(lagging.listSearchAttributes).toHaveBeenCalledTimes(3);

    const never = { listSearchAttributes: jest.fn().mockResolvedValue({ customAttributes: {} }), addSearchAttributes: jest.fn().mockResolvedValue({}) };
    await expect(ensureSearchAttributes({ operatorService: never } as never, 'ns', [CustomerIdKey], { waitMs: 600 })).rejects.toThrow(
      /CustomerId were registered but are not listed after 1 s/,
    );
  });
});
