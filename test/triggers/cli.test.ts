import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { loadCatalog } from '../../src/campaigns/catalog';
import { createEmailTransport } from '../../src/delivery/email';
import { createSmsTransport, RedirectingRequestClient } from '../../src/delivery/sms';
import { createTemplateRenderer } from '../../src/delivery/templates';
import { createStore, type Store } from '../../src/store';
import { runCli } from '../../src/triggers/cli';
import type { CliIo } from '../../src/triggers/cli/io';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/triggers/errors';
import type { JourneySummary } from '../../src/triggers/journeys';
import { startSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer } from '../fakes/twilio-server';
import { createTestWorker, devServerEnv, uniqueTaskQueue } from '../harness';
import { HARNESS_ENV } from '../harness/env';

const runId = randomUUID().slice(0, 8);
const id = (name: string) => `cli-${runId}-${name}`;

let env: TestWorkflowEnvironment;
let store: Store;
let dir: string;
let taskQueue: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retention-cli-'));
  env = await devServerEnv();
  taskQueue = uniqueTaskQueue('cli');
  store = await createStore(`sqlite:${path.join(dir, 'store.sqlite')}`);
  await store.migrate();
});

afterAll(async () => {
  await store?.close();
  await env?.teardown();
});

/** The environment a user would set to point the CLI at this run's dev server and store. */
function cliEnv(): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: process.env[HARNESS_ENV.devServerAddress] as string,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, 'store.sqlite')}`,
    CAMPAIGNS_DIR: path.resolve('campaigns'),
  };
}

/** Runs one command line in-process and captures what it prints. */
async function cli(argv: string[], io: Partial<CliIo> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: cliEnv(),
    ...io,
  });
  return { code, stdout, stderr };
}

async function statusOf(workflowId: string): Promise<string | undefined> {
  try {
    return (await env.client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Polls until `check` returns a value (visibility and workers lag behind a start); fails after the deadline. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const seed = (name: string) => store.upsertCustomer({ id: id(name), name: `Customer ${name}`, email: `${name}@example.com`, consentEmail: true });

describe('retention CLI', () => {
  it('lists every command in --help, in-process and as a spawned binary', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'status', 'cancel', 'event', 'complaint', 'schedules', 'report', 'sample']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const complaintHelp = await cli(['complaint', '--help']);
    expect(complaintHelp.stdout).toMatch(/open \[options\] <ticketId>/);
    expect(complaintHelp.stdout).toMatch(/update \[options\] <ticketId> <progress>/);

    const exec = promisify(execFile);
    const tsx = path.resolve('node_modules/.bin/tsx');
    const spawned = await exec(tsx, ['src/triggers/cli.ts', 'start', '--help']);
    expect(spawned.stdout).toMatch(/--csv <file>/);
    expect(spawned.stdout).toMatch(/--concurrency <n>/);
    const bad = await exec(tsx, ['src/triggers/cli.ts', 'start', 'onboarding', '--csv', path.join(dir, 'missing.csv')]).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect('code' in bad && bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(`error: --csv: cannot read ${path.join(dir, 'missing.csv')} (ENOENT)`);
  });

  it('refuses bad usage with a one-line message naming the argument or option', async () => {
    const stage = await cli(['start', 'retirement', id('x')]);
    expect(stage.code).toBe(1);
    expect(stage.stderr).toMatch(/argument 'stage'.*onboarding, nurture, winback/);
    const concurrency = await cli(['start', 'onboarding', '--csv', 'x.csv', '--concurrency', '0']);
    expect(concurrency.code).toBe(1);
    expect(concurrency.stderr).toMatch(/option '--concurrency <n>' argument '0' is invalid/);
    await expect(cli(['start', 'onboarding'])).rejects.toThrow(/missing <customerId>/);
    await expect(cli(['status', id('x')], { env: { ...cliEnv(), TEMPORAL_PORT: 'abc' } })).rejects.toThrow(/TEMPORAL_PORT/);
    const badDatabase = { ...cliEnv(), DATABASE_URL: `sqlite:${path.join(dir, 'store.sqlite', 'below-a-file.sqlite')}` };
    await expect(cli(['start', 'onboarding', id('x')], { env: badDatabase })).rejects.toThrow(/^DATABASE_URL: /);
  });

  it('starts one customer, idempotently, and refuses an unknown customer', async () => {
    await seed('single');
    const first = await cli(['start', 'onboarding', id('single')]);
    expect(first.stdout).toMatch(new RegExp(`^started onboarding-${id('single')} \\(run [0-9a-f-]+\\)$`, 'm'));
    expect(await statusOf(`onboarding-${id('single')}`)).toBe('RUNNING');
    const again = await cli(['start', 'onboarding', id('single')]);
    expect(again.stdout).toMatch(/^already running: onboarding-.*nothing new started$/m);
    await expect(cli(['start', 'onboarding', id('nobody')])).rejects.toThrow(NotFoundError);
    await expect(cli(['start', 'onboarding', id('single'), '--campaign', 'nope'])).rejects.toThrow(/no campaign "nope"/);
    expect(await statusOf(`onboarding-${id('nobody')}`)).toBeUndefined();
  });

  it('starts a CSV segment with a summary and rejects file; an interrupted run exits 130 and a re-run completes', async () => {
    const file = path.join(dir, 'segment.csv');
    await writeFile(
      file,
      ['customer_id,name,email,timezone', `${id('csv-a')},Ann,ann@example.com,Europe/Paris`, `${id('csv-b')},Ben,ben@example.com,Mars/Base`, `${id('csv-c')},Cat,,`].join('\n'),
    );

    const interrupted = await cli(['start', 'winback', '--csv', file], { interrupt: AbortSignal.abort() });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stdout).toMatch(/^started 0, .*\ninterrupted: the rest of the file was not read/);
    expect(await statusOf(`winback-${id('csv-a')}`)).toBeUndefined();

    const done = await cli(['start', 'winback', '--csv', file, '--concurrency', '2']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^started 2, already running 0, already ran \(conflict\) 0, rejected 1, failed 0 \(3 rows in/m);
    expect(done.stdout).toContain(`rejected rows with reasons: ${file}.rejects.csv`);
    expect(await readFile(`${file}.rejects.csv`, 'utf8')).toContain('timezone: expected an IANA time zone');
    expect(await statusOf(`winback-${id('csv-a')}`)).toBe('RUNNING');
    expect((await store.getCustomer(id('csv-a')))?.timezone).toBe('Europe/Paris');

    const rejects = path.join(dir, 'my-rejects.csv');
    const rerun = await cli(['start', 'winback', '--csv', file, '--rejects', rejects, '--json']);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ started: 0, alreadyRunning: 2, rejected: 1, rejectsFile: rejects });
  });

  it('records events and relays complaint progress through the service layer', async () => {
    await seed('events');
    const purchase = await cli(['event', id('events'), 'purchase', '--amount', '42.5', '--order', 'o-1']);
    expect(purchase.stdout).toBe(`recorded purchase for ${id('events')}; delivered to nurture-${id('events')}\n`);
    expect(await statusOf(`nurture-${id('events')}`)).toBe('RUNNING');
    const unsubscribe = await cli(['event', id('events'), 'unsubscribe', '--channel', 'email']);
    expect(unsubscribe.stdout).toMatch(/recorded unsubscribe/);
    expect((await store.getCustomer(id('events')))?.consentEmail).toBe(false);
    await expect(cli(['event', id('events'), 'channel-preference'])).rejects.toThrow(InvalidInputError);
    await expect(cli(['event', id('ghost'), 'login'])).rejects.toThrow(NotFoundError);

    const ticket = `T-${runId}`;
    const opened = await cli(['complaint', 'open', ticket, '--customer', id('events'), '--subject', 'Late parcel']);
    expect(opened.stdout).toMatch(new RegExp(`^opened complaint-${ticket} `));
    expect((await cli(['complaint', 'open', ticket, '--customer', id('events')])).stdout).toBe(`already open: complaint-${ticket}\n`);
    await expect(cli(['complaint', 'open', 'bad ticket!', '--customer', id('events')])).rejects.toThrow(/ticketId: expected letters/);
    const update = await cli(['complaint', 'update', ticket, 'first-response', '--note', 'on it']);
    expect(update.stdout).toBe(`sent first-response to complaint-${ticket}\n`);
    const history = await env.client.workflow.getHandle(`complaint-${ticket}`).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toBe(true);
    await expect(cli(['complaint', 'update', `T-none-${runId}`, 'resolved'])).rejects.toThrow(NotFoundError);
  });

  it('shows a running journey with its live state, then cancels it', async () => {
    const smtp = await startSmtpServer();
    const twilio = await startTwilioServer();
    const email = createEmailTransport({ smtpUrl: smtp.url, from: 'Shop <hello@shop.test>', poolSize: 1, ratePerSecond: 100, outboxDir: path.join(dir, 'outbox') });
    const sms = createSmsTransport(
      { accountSid: twilio.accountSid, authToken: twilio.authToken, fromNumber: '+15005550006', messagingServiceSid: undefined },
      { outboxDir: path.join(dir, 'outbox'), httpClient: new RedirectingRequestClient(twilio.url) },
    );
    const catalog = await loadCatalog(path.resolve('campaigns'));
    const activities = createActivities({
      store,
      email,
      sms,
      renderer: createTemplateRenderer(),
      links: { publicBaseUrl: 'https://shop.test', secret: 'test-secret-test-secret', surveyValidForMs: 30 * 86_400_000 },
      brandName: 'Shop',
      frequencyCap: { email: { max: 100, windowMs: 86_400_000 }, sms: { max: 100, windowMs: 86_400_000 } },
      temporal: { client: env.client, taskQueue, catalog },
    });
    const worker = await createTestWorker(env.nativeConnection, taskQueue, activities);
    const workflowId = `onboarding-${id('status')}`;
    try {
      await worker.runUntil(async () => {
        await seed('status');
        expect((await cli(['start', 'onboarding', id('status')])).code).toBe(0);

        const journey = await eventually(async () => {
          const { stdout } = await cli(['status', id('status'), '--json']);
          return (JSON.parse(stdout) as JourneySummary[]).find((j) => j.workflowId === workflowId && j.state);
        }, 'the journey to show up in visibility with its state');
        expect(journey).toMatchObject({ stage: 'onboarding', campaignId: 'welcome-series', status: 'RUNNING', state: { customerId: id('status') } });

        const table = await cli(['status', id('status')]);
        expect(table.stdout).toMatch(/^WORKFLOW\s+STAGE\s+CAMPAIGN\s+STATUS\s+STEP/);
        expect(table.stdout).toMatch(new RegExp(`^${workflowId}\\s+onboarding\\s+welcome-series\\s+RUNNING\\s+\\S+`, 'm'));

        expect((await cli(['cancel', workflowId])).stdout).toBe(`cancellation requested for ${workflowId}\n`);
        await eventually(async () => ((await statusOf(workflowId)) === 'RUNNING' ? undefined : true), 'the journey to end');
        expect(await statusOf(workflowId)).toBe('CANCELLED');
      });
    } finally {
      email.close();
      await Promise.allSettled([smtp.close(), twilio.close()]);
    }
    await expect(cli(['cancel', workflowId])).rejects.toThrow(ConflictError);
    await expect(cli(['cancel', `onboarding-${id('never')}`])).rejects.toThrow(NotFoundError);
    expect((await cli(['status', id('never')])).stdout).toBe(`no journeys for customer ${id('never')}\n`);
  });
});
