import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../../src/dev/dev-server';
import { resolveTestServer } from '../../src/dev/test-server';
import { workflowBundlerOptions, workflowsPath } from '../../src/workers/worker';
import { HARNESS_ENV } from './env';
import { startPostgres } from './postgres';

/**
 * Once per jest run: one real dev server (in memory, project search attributes registered), the time-skipping
 * server's launcher, and one workflow bundle. Test workers find them through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const [server, testServer, bundle, postgres] = await Promise.all([
    startDevServer({ namespace: 'default', cliPath: process.env.TEMPORAL_CLI_PATH }),
    resolveTestServer(),
    bundleWorkflowCode({ workflowsPath, ...workflowBundlerOptions, logger: quietLogger }),
    startPostgres().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
  ]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'retention-tests-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);

  (globalThis as { __devServer?: typeof server }).__devServer = server;
  process.env[HARNESS_ENV.devServerAddress] = server.address;
  process.env[HARNESS_ENV.workflowBundle] = bundlePath;
  if (testServer.source === 'java classpath') process.env[HARNESS_ENV.testServerPath] = testServer.path;
  if (postgres instanceof Error) {
    process.env[HARNESS_ENV.postgresError] = postgres.message;
    console.error(`\nharness: PostgreSQL unavailable, the store tests will fail: ${postgres.message}`);
  } else {
    (globalThis as { __postgres?: typeof postgres }).__postgres = postgres;
    process.env[HARNESS_ENV.postgresUrl] = postgres.url;
  }
  console.log(
    `\nharness: dev server ${server.address} (${server.cli.source}), time-skipping server: ${testServer.source}, ` +
      `bundle ${(bundle.code.length / 1e6).toFixed(1)} MB, ready in ${Date.now() - started} ms`,
  );
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
