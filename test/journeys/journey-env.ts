import { mkdtemp, writeFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type JourneyDeps } from '../../src/activities';
import { buildTestJourneyDeps } from '../harness/journey-deps';
import { loadCatalog, parseDefinition, type CampaignCatalog } from '../../src/campaigns/catalog';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import type { JourneyInput, JourneyResult, JourneyState } from '../../src/shared/journey-types';
import { journeyStateQuery } from '../../src/shared/messages';
import { createStore, type CustomerInput, type Store } from '../../src/store';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTestWorker, timeSkippingEnv, uniqueTaskQueue } from '../harness';

/**
 * Everything a lifecycle test needs, all real: a time-skipping Temporal server, a SQLite store, a local SMTP
 * server and a Twilio-shaped HTTP server reached through the real nodemailer and twilio clients.
 */
export interface JourneyTestKit {
  env: TestWorkflowEnvironment;
  store: Store;
  smtp: FakeSmtpServer;
  twilio: FakeTwilioServer;
  deps: JourneyDeps;
  catalog: CampaignCatalog;
  taskQueue: string;
  /**
   * Asserts the hand-over target runs, then terminates it: a journey left running would keep firing timers
   * while later tests skip time on the same server.
   */
  expectRunningAndStop(workflowId: string): Promise<void>;
  /**
   * The workflow's result, awaited with the time-skipping clock held. `env.client`'s result() lets the clock run
   * to the next timer while it waits, so a journey this one hands the customer to could reach and fire its first
   * timer before the result arrives. For workflows that finish without a timer (after a signal).
   */
  resultWithClockHeld<T = JourneyResult>(workflowId: string): Promise<T>;
  /**
   * With RECORD_HISTORIES=1 (`npm run histories:record`), saves the workflow's event history to
   * test/histories/<name>.rev<revision>.binpb (protobuf binary, revision from the journey's input) for the replay
   * test; otherwise does nothing.
   */
  saveHistory(workflowId: string, name: string): Promise<void>;
  /** Runs `fn` with a fresh worker polling the kit's task queue (a worker runs only once). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function startJourneyKit(
  campaigns: CampaignDefinitionInput[] = [],
  /** Replaces activities of the product's set (a fault to inject). */
  overrides: (activities: ReturnType<typeof createActivities>) => Partial<ReturnType<typeof createActivities>> = () => ({}),
  /** Frequency caps lower than the harness's 100 a day per channel. */
  options: { frequencyCap?: JourneyDeps['frequencyCap'] } = {},
): Promise<JourneyTestKit> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'journeys-'));
  const [env, smtp, twilio, store] = await Promise.all([
    timeSkippingEnv(),
    startSmtpServer(),
    startTwilioServer(),
    createStore(`sqlite:${path.join(dir, 'store.sqlite')}`),
  ]);
  await store.migrate();
  const catalog = await loadCatalog(path.resolve('campaigns'));
  for (const input of campaigns) {
    const entry = parseDefinition(input, 'test');
    catalog.byId.set(entry.definition.id, entry);
    catalog.defaults.set(entry.definition.stage, entry);
  }
  const taskQueue = uniqueTaskQueue('journey');
  const deps = buildTestJourneyDeps({ store, smtp, twilio, client: env.client, taskQueue, catalog, dir, clock: serverClock, frequencyCap: options.frequencyCap });
  const product = createActivities(deps);
  const activities = { ...product, ...overrides(product) };
  return {
    env,
    store,
    smtp,
    twilio,
    deps,
    catalog,
    taskQueue,
    resultWithClockHeld<T>(workflowId: string): Promise<T> {
      return new Client({ connection: env.connection, namespace: env.namespace }).workflow.getHandle(workflowId).result() as Promise<T>;
    },
    async expectRunningAndStop(workflowId: string) {
      const handle = env.client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // Terminating a workflow while one of its activities runs freezes the time-skipping server's clock (a later
      // env.sleep hangs): let its activities finish first.
      const deadline = Date.now() + 10_000;
      while ((await handle.describe()).raw.pendingActivities?.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await handle.terminate('test finished');
    },
    async saveHistory(workflowId: string, name: string) {
      if (!process.env.RECORD_HISTORIES) return;
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      // One file per name and revision: a new revision's history joins the older ones, which running journeys replay.
      const [input] = (history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).map((p) =>
        defaultPayloadConverter.fromPayload<JourneyInput>(p),
      );
      const file = `${name}.rev${input?.revision ?? 0}.binpb`;
      await writeFile(path.resolve('test/histories', file), temporal.api.history.v1.History.encode(history).finish());
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const worker = await createTestWorker(env.nativeConnection, taskQueue, activities);
      return worker.runUntil(fn);
    },
    async close() {
      deps.email.close();
      await Promise.allSettled([store.close(), smtp.close(), twilio.close()]);
      await env.teardown();
    },
  };
}

/**
 * The time-skipping server's time, as an activity sees it: when its attempt was scheduled. (Asking the server for
 * the time from inside an activity can stall while the test skips time, and waits for that very activity.)
 */
async function serverClock(): Promise<number> {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

let counter = 0;
/** A customer with both channels consented, unless overridden. */
export async function seedCustomer(store: Store, overrides: Partial<CustomerInput> = {}) {
  counter++;
  const id = overrides.id ?? `cust-${counter}-${Date.now().toString(36)}`;
  return store.upsertCustomer({
    id,
    name: `Customer ${counter}`,
    email: `${id}@example.com`,
    phone: `+1555000${String(1000 + counter).slice(-4)}`,
    timezone: 'UTC',
    preferredChannel: 'email',
    consentEmail: true,
    consentSms: true,
    ...overrides,
  });
}

/** Subjects of the emails the SMTP server received for one address, in order. */
export function subjectsTo(smtp: FakeSmtpServer, address: string): string[] {
  return smtp.messages
    .filter((m) => m.envelope.to.includes(address))
    .map((m) => /^Subject: (.*)$/im.exec(m.raw)?.[1]?.trim() ?? '');
}

/** A history event's time in epoch milliseconds. */
export function timestampMs(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!ts) throw new Error('history event without a time');
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Queries the journey's state until `accept` holds (15 s of real time). */
export async function waitForState(kit: JourneyTestKit, workflowId: string, accept: (state: JourneyState) => boolean): Promise<JourneyState> {
  const handle = kit.env.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await handle.query(journeyStateQuery).catch(() => undefined);
    if (state && accept(state)) return state;
    if (Date.now() > deadline) throw new Error(`journey ${workflowId} never reached the expected state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
