import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sampleActivities } from '../../src/activities';
import { startDevServer, type DevServer } from '../../src/dev/dev-server';
import { freePort } from '../../src/dev/wait';
import { createTestWorker, uniqueTaskQueue, workflowBundle } from '../harness';
import { HARNESS_ENV } from '../harness/env';

/**
 * The embedded dev server as the demo and `npm run server` start it (a SQLite file): the settings that keep a launch
 * from queueing on the server (issue 11) are in effect.
 */
describe('embedded dev server settings', () => {
  let dir: string;
  let server: DevServer;
  let metricsPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'server-settings-'));
    metricsPort = await freePort();
    server = await startDevServer({ namespace: 'default', dbFile: path.join(dir, 'temporal.sqlite'), cliPath: process.env.TEMPORAL_CLI_PATH, metricsPort });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its SQLite file in write-ahead-log mode', () => {
    const db = new Database(path.join(dir, 'temporal.sqlite'), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('hands a scheduled activity to the worker with the workflow task that scheduled it (eager dispatch)', async () => {
    const taskQueue = uniqueTaskQueue('eager');
    const worker = await createTestWorker(server.env.nativeConnection, taskQueue, sampleActivities);
    const workflowId = `eager-${taskQueue}`;
    await worker.runUntil(server.env.client.workflow.execute('sampleWorkflow', { taskQueue, workflowId, args: [{ name: 'Ada', activationWindow: '1 second' }] }));
    // The server counts each activity it hands out in a workflow task's response, per task queue (its label has the
    // queue's dashes as underscores).
    const label = taskQueue.replace(/-/g, '_');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const eager = metrics.split('\n').find((line) => line.startsWith('activity_eager_execution{') && line.includes(`taskqueue="${label}"`));
    expect(eager).toBeDefined();
    expect(Number(eager?.split(' ').pop())).toBe(1);
  }, 60_000);

  it('bundles zod into the modules the workflow thread loads once and shares', async () => {
    const code = await readFile(process.env[HARNESS_ENV.workflowBundle] ?? workflowBundle().codePath, 'utf8');
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
    expect(preload).toContain('./src/workflows/preload.ts');
    const at = code.indexOf('/***/ "./src/workflows/preload.ts"');
    expect(at).toBeGreaterThan(-1);
    const preloadModule = code.slice(at, code.indexOf('/***/ }', at));
    expect(preloadModule).toMatch(/__webpack_require__\([^)]*"\.\/node_modules\/zod\/index\.cjs"\)/);
  });
});
