import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import globalSetup from './global-setup';
import globalTeardown from './global-teardown';
import type { TestPostgres } from './postgres';

const started = Symbol.for('retention.mutationHarness');

/**
 * The jest global setup used by mutation testing (stryker.config.mjs; `npm run test:mutation`).
 *
 * Stryker's jest runner calls jest once per mutant inside a long-lived worker process, so test/harness/global-setup.ts
 * would start a dev server and PostgreSQL and bundle the workflows again for every mutant (about 10 s each). This
 * runs it once per worker process and keeps what it started; Stryker's config leaves out the global teardown.
 * What it started goes with the worker: Stryker kills a worker's whole process tree (the dev server is a child),
 * and a watchdog outside that tree stops the PostgreSQL cluster, which pg_ctl daemonized, and deletes its folder.
 * A worker whose Stryker process went away without disposing of it (Ctrl-C: the Temporal runtime catches SIGINT and
 * SIGTERM, so the worker lives on) notices its IPC channel close, stops the servers and exits.
 */
export default async function mutationGlobalSetup(): Promise<void> {
  const state = globalThis as { [started]?: Promise<void>; __postgres?: TestPostgres };
  state[started] ??= globalSetup().then(async () => {
    process.once('disconnect', () => void globalTeardown().finally(() => process.exit(1)));
    await watchPostgres(state.__postgres);
  });
  await state[started];
}

/** Finds the cluster's folder (retention-pg-* in the temp dir) by its port, then leaves a watchdog on it. */
async function watchPostgres(postgres: TestPostgres | undefined): Promise<void> {
  if (!postgres || postgres.source === 'TEST_DATABASE_URL') return;
  const port = new URL(postgres.url).port;
  for (const entry of await readdir(os.tmpdir())) {
    if (!entry.startsWith('retention-pg-')) continue;
    const base = path.join(os.tmpdir(), entry);
    // postmaster.pid: pid, data directory, start time, port, ...
    const lines = (await readFile(path.join(base, 'data', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
    const pid = Number(lines[0]);
    if (lines[3]?.trim() !== port || !Number.isInteger(pid) || pid <= 0) continue;
    // `( … ) &` inside `sh -c`: the loop outlives the short-lived sh, so it is re-parented and not in the worker's tree.
    const script =
      `(while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; ` +
      `kill -QUIT ${pid} 2>/dev/null; sleep 3; rm -rf '${base}') >/dev/null 2>&1 </dev/null &`;
    spawn('sh', ['-c', script], { stdio: 'ignore', detached: true }).unref();
    return;
  }
}
