import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadCatalog } from '../../src/campaigns/catalog';
import { createStore, type Store } from '../../src/store';
import { bulkStart, defaultRejectsFile } from '../../src/triggers/bulk-start';
import type { TriggerContext } from '../../src/triggers/context';
import { countDataLines, SegmentFormatError, validateRecord } from '../../src/triggers/csv-segment';
import { journeyWorkflowId } from '../../src/triggers/journeys';
import { devServerEnv, uniqueTaskQueue } from '../harness';

/** Workflow ids are global on the shared dev server: every customer id is unique to this run. */
const run = randomUUID().slice(0, 8);
const id = (name: string) => `bulk-${run}-${name}`;

let env: TestWorkflowEnvironment;
let store: Store;
let ctx: TriggerContext;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bulk-start-'));
  env = await devServerEnv();
  store = await createStore(`sqlite:${path.join(dir, 'store.sqlite')}`);
  await store.migrate();
  ctx = { client: env.client, catalog: await loadCatalog(path.resolve('campaigns')), taskQueue: uniqueTaskQueue('bulk'), store };
});

afterAll(async () => {
  await store?.close();
  await env?.teardown();
});

async function writeCsv(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** The workflow's status, or undefined when no journey was ever started under that id. */
async function statusOf(workflowId: string): Promise<string | undefined> {
  try {
    return (await env.client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

async function readRejects(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).trimEnd().split('\n');
}

describe('validateRecord', () => {
  const columns = ['customer_id', 'name', 'email', 'consent_email'];

  it('accepts a profile row and keeps only the cells that were given', () => {
    expect(validateRecord(columns, ['c1', 'Ada', '', 'Yes'], 2)).toEqual({
      kind: 'row',
      line: 2,
      customerId: 'c1',
      profile: { id: 'c1', name: 'Ada', consentEmail: true },
    });
    expect(validateRecord(columns, ['c1', '', '', ''], 3)).toEqual({ kind: 'row', line: 3, customerId: 'c1', profile: undefined });
  });

  it('names every bad column in its reasons', () => {
    const row = validateRecord(columns, ['', 'Bob', 'nope', 'maybe'], 4);
    expect(row.kind).toBe('reject');
    expect(row.kind === 'reject' && row.reasons).toEqual([
      'consent_email: expected true or false, got "maybe"',
      'customer_id: expected a customer id',
      'email: expected an email address such as ada@example.com',
    ]);
  });
});

describe('bulkStart from a CSV segment', () => {
  it('starts good rows, rejects bad ones with line and reasons, and a re-run starts nothing twice', async () => {
    await store.upsertCustomer({ id: id('known'), name: 'Known', email: 'known@example.com' });
    const file = await writeCsv('segment.csv', [
      'customer_id,name,email,consent_email',
      `${id('ada')},Ada,ada@example.com,yes`, // line 2: new customer, upserted then started
      `${id('bob')},Bob,not-an-email,no`, // line 3: bad email
      ',Cy,cy@example.com,true', // line 4: no customer id
      `${id('known')},,,`, // line 5: known customer without profile values
      `${id('ghost')},,,`, // line 6: unknown customer without profile values
      `${id('dan')}`, // line 7: wrong column count
      `${id('eve')},,eve@example.com,`, // line 8: new customer without a name
      `${id('fay')},"Fay ""F"" Smith",fay@example.com,no`, // line 9: quoted cell, fine
      `${id('gus')},"Gus,gus@example.com,true`, // line 10: quote never closed
    ]);

    const first = await bulkStart(ctx, { stage: 'onboarding', file, concurrency: 4 });
    expect(first).toMatchObject({ processed: 9, started: 3, alreadyRunning: 0, alreadyRan: 0, rejected: 6, failed: 0, interrupted: false });
    expect(first.rejectsFile).toBe(defaultRejectsFile(file));
    for (const name of ['ada', 'known', 'fay']) expect(await statusOf(journeyWorkflowId('onboarding', id(name)))).toBe('RUNNING');
    for (const name of ['bob', 'ghost', 'dan', 'eve', 'gus']) expect(await statusOf(journeyWorkflowId('onboarding', id(name)))).toBeUndefined();
    expect(await store.getCustomer(id('ada'))).toMatchObject({ name: 'Ada', email: 'ada@example.com', consentEmail: true });
    // The consent the segment gave is kept with where it came from.
    expect((await store.latestConsentChanges(id('ada'))).email).toMatchObject({ granted: true, source: 'csv-segment', evidence: 'segment.csv line 2' });
    expect((await store.getCustomer(id('fay')))?.name).toBe('Fay "F" Smith');
    expect(await store.getCustomer(id('bob'))).toBeUndefined();

    const rejects = await readRejects(first.rejectsFile);
    expect(rejects[0]).toBe('line,customer_id,reasons,raw');
    const byLine = new Map(rejects.slice(1).map((line) => [Number(line.split(',')[0]), line]));
    expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([3, 4, 6, 7, 8, 10]);
    expect(byLine.get(3)).toContain('email: expected an email address');
    expect(byLine.get(4)).toContain('customer_id: expected a customer id');
    expect(byLine.get(6)).toContain(`customer_id: unknown customer`);
    expect(byLine.get(7)).toContain('expected 4 columns');
    expect(byLine.get(8)).toContain('name: required to add the new customer');
    expect(byLine.get(10)).toMatch(/unreadable CSV: Quote Not Closed/);

    const second = await bulkStart(ctx, { stage: 'onboarding', file, concurrency: 4 });
    expect(second).toMatchObject({ processed: 9, started: 0, alreadyRunning: 3, rejected: 6 });

    // A journey that ended may not run again (onboarding re-entry is "never"): counted, not rejected.
    await env.client.workflow.getHandle(journeyWorkflowId('onboarding', id('known'))).terminate('test');
    const third = await bulkStart(ctx, { stage: 'onboarding', file, concurrency: 4 });
    expect(third).toMatchObject({ started: 0, alreadyRunning: 2, alreadyRan: 1, rejected: 6 });
  });

  it('stops reading when interrupted, finishes what is in flight, and a re-run starts exactly the rest', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `int-${i}`);
    const file = await writeCsv('interrupt.csv', ['customer_id,name', ...names.map((n) => `${id(n)},Customer ${n}`)]);
    expect(await countDataLines(file)).toBe(120);

    const controller = new AbortController();
    const first = await bulkStart(ctx, {
      stage: 'nurture',
      file,
      concurrency: 8,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.processed >= 30) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(first.started).toBeGreaterThanOrEqual(30);
    expect(first.started).toBeLessThan(120);
    expect(first.processed).toBe(first.started);

    // Every counted start exists and nothing else was started: no half-started rows.
    const statuses = await Promise.all(names.map((n) => statusOf(journeyWorkflowId('nurture', id(n)))));
    expect(statuses.filter((s) => s === 'RUNNING')).toHaveLength(first.started);
    expect(statuses.filter((s) => s === undefined)).toHaveLength(120 - first.started);

    const second = await bulkStart(ctx, { stage: 'nurture', file, concurrency: 8 });
    expect(second).toMatchObject({ interrupted: false, started: 120 - first.started, alreadyRunning: first.started, rejected: 0 });
    const after = await Promise.all(names.map((n) => statusOf(journeyWorkflowId('nurture', id(n)))));
    expect(after.every((s) => s === 'RUNNING')).toBe(true);
    await expect(stat(second.rejectsFile)).rejects.toThrow(/ENOENT/);
  });

  it('dry run validates and checks customers without writing or starting anything', async () => {
    const file = await writeCsv('dry.csv', ['customer_id,name', `${id('dry-new')},New`, `${id('dry-ghost')},`]);
    const summary = await bulkStart(ctx, { stage: 'winback', file, dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, valid: 1, rejected: 1, started: 0 });
    expect(await store.getCustomer(id('dry-new'))).toBeUndefined();
    expect(await statusOf(journeyWorkflowId('winback', id('dry-new')))).toBeUndefined();
  });

  it('refuses a bad header or an unknown campaign before starting anything, naming the problem', async () => {
    const typo = await writeCsv('typo.csv', ['customer_id,emial', `${id('typo')},t@example.com`]);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: typo })).rejects.toThrow(SegmentFormatError);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: typo })).rejects.toThrow(/unknown column "emial"/);
    const noId = await writeCsv('no-id.csv', ['name,email', 'Ann,ann@example.com']);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: noId })).rejects.toThrow(/no customer_id column/);
    const empty = await writeCsv('empty.csv', []);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: empty })).rejects.toThrow(/no header row/);
    const good = await writeCsv('good.csv', ['customer_id,name', `${id('nocamp')},Nora`]);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: good, campaignId: 'no-such-campaign' })).rejects.toThrow(/no campaign "no-such-campaign"/);
    await expect(bulkStart(ctx, { stage: 'complaint', file: good })).rejects.toThrow(/stage: complaint journeys start per support ticket/);
    await expect(bulkStart(ctx, { stage: 'onboarding', file: path.join(dir, 'missing.csv') })).rejects.toThrow(/ENOENT/);
    expect(await store.getCustomer(id('nocamp'))).toBeUndefined();
  });
});
