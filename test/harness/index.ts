import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { HARNESS_ENV } from './env';
import { temporal } from '@temporalio/proto';
import { customSearchAttributes } from '../../src/shared/search-attributes';

// One quiet runtime per test process: warnings and errors only.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by an earlier import in this process
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest so that test/harness/global-setup.ts runs`);
  return value;
}

/** The workflow bundle built once per jest run. */
export function workflowBundle(): { codePath: string } {
  return { codePath: required(HARNESS_ENV.workflowBundle) };
}

/** A fresh task queue name, so tests sharing a server never pick up each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A client/worker environment on the run's shared dev server (full server: visibility, schedules, search attributes). */
export function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: required(HARNESS_ENV.devServerAddress) });
}

/**
 * A private time-skipping server for one test file: the Java build provisioned by `npm run provision`
 * when present, otherwise the SDK's own download.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = process.env[HARNESS_ENV.testServerPath];
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      customSearchAttributes.map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type.toUpperCase()}` as 'INDEXED_VALUE_TYPE_KEYWORD'],
      ]),
    ),
  });
  return env;
}

export async function createTestWorker(
  connection: NativeConnection,
  taskQueue: string,
  activities: WorkerOptions['activities'],
  namespace = 'default',
): Promise<Worker> {
  return Worker.create({ connection, namespace, taskQueue, workflowBundle: workflowBundle(), activities });
}
