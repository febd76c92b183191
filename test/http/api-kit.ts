import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities, type JourneyDeps } from '../../src/activities';
import { loadCatalog, parseDefinition, type CampaignCatalog } from '../../src/campaigns/catalog';
import { loadConfig, type AppConfig } from '../../src/config';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { journeyStateQuery } from '../../src/shared/messages';
import { createStore, type Store } from '../../src/store';
import type { TriggerContext } from '../../src/triggers/context';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTestWorker, devServerEnv, uniqueTaskQueue } from '../harness';
import { buildTestJourneyDeps } from '../harness/journey-deps';

export const API_TOKEN = 'test-marketer-token-0123456789';
export const SUPPORT_SECRET = 'test-support-secret-0123456789';
export const PUBLIC_BASE_URL = 'https://api.shop.test';

export interface ApiKitOptions {
  /** Run a worker with the real activities (fake SMTP/Twilio) so started journeys actually run. */
  worker?: boolean;
  /** Campaign definitions that replace the stage defaults (e.g. the demo's second-scale timings). */
  campaigns?: CampaignDefinitionInput[];
  /** Extra environment for loadConfig. */
  env?: Record<string, string>;
}

/**
 * The HTTP API on the run's real Temporal dev server, a fresh SQLite store and a unique task queue; optionally
 * a worker running the real activities against local SMTP/Twilio fakes. Use `app.inject` for requests, or
 * `listen()` for a real socket.
 */
export interface ApiKit {
  app: ApiApp;
  config: AppConfig;
  ctx: TriggerContext;
  store: Store;
  env: TestWorkflowEnvironment;
  catalog: CampaignCatalog;
  smtp: FakeSmtpServer;
  twilio: FakeTwilioServer;
  deps: JourneyDeps;
  /** `authorization` header with the marketer token. */
  auth: { authorization: string };
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startApiKit(options: ApiKitOptions = {}): Promise<ApiKit> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'api-'));
  const [env, smtp, twilio, store] = await Promise.all([
    devServerEnv(),
    startSmtpServer(),
    startTwilioServer(),
    createStore(`sqlite:${path.join(dir, 'store.sqlite')}`),
  ]);
  await store.migrate();
  const taskQueue = uniqueTaskQueue('api');
  const config = loadConfig({
    DATA_DIR: dir,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_TOKENS: API_TOKEN,
    SUPPORT_WEBHOOK_SECRET: SUPPORT_SECRET,
    PUBLIC_BASE_URL,
    ...options.env,
  });
  const catalog = await loadCatalog(path.resolve('campaigns'));
  for (const input of options.campaigns ?? []) {
    const entry = parseDefinition(input, 'test');
    catalog.byId.set(entry.definition.id, entry);
    catalog.defaults.set(entry.definition.stage, entry);
  }
  const ctx: TriggerContext = { client: env.client, catalog, taskQueue, store };
  const deps = buildTestJourneyDeps({ store, smtp, twilio, client: env.client, taskQueue, catalog, dir, publicBaseUrl: PUBLIC_BASE_URL, linkSecret: config.linkSigningSecret });
  const app = await buildApp({ config, ctx });

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  if (options.worker) {
    worker = await createTestWorker(env.nativeConnection, taskQueue, createActivities(deps));
    running = worker.run();
  }
  return {
    app,
    config,
    ctx,
    store,
    env,
    catalog,
    smtp,
    twilio,
    deps,
    auth: { authorization: `Bearer ${API_TOKEN}` },
    listen: () => app.listen({ host: '127.0.0.1', port: 0 }),
    async close() {
      await app.close();
      if (worker && running) {
        worker.shutdown();
        await running;
      }
      deps.email.close();
      await Promise.allSettled([store.close(), smtp.close(), twilio.close()]);
      await env.teardown();
    },
  };
}

/** Polls `check` until it returns a value other than undefined (visibility and workflows are asynchronous). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A 400 body's issue, as the API reports it. */
export interface Issue {
  path: string;
  message: string;
}

/** A welcome at once, then a long pause, muted (not ended) by an unsubscribe: the journey stays running for the test. */
export function mutedOnboarding(id: string): CampaignDefinitionInput {
  return {
    id,
    version: 1,
    stage: 'onboarding',
    holdoutPercent: 0,
    onUnsubscribe: 'mute',
    steps: [
      { id: 'welcome', template: 'onboarding/welcome' },
      { id: 'tip-1', after: '1 hour', template: 'onboarding/tip-1' },
    ],
    finalWait: '1 hour',
  };
}

/** A journey's live state, or undefined while it cannot answer (still starting, or gone). */
export function journeyStateOf(kit: ApiKit, workflowId: string) {
  return kit.env.client.workflow.getHandle(workflowId).query(journeyStateQuery).catch(() => undefined);
}

/**
 * Waits until the complaint journey is open (`awaiting-first-response`), or asks for its CSAT survey and sleeps on the
 * survey's timeout (`csat-survey`).
 */
export function complaintReaches(kit: ApiKit, workflowId: string, step: 'awaiting-first-response' | 'csat-survey', what: string) {
  return eventually(async () => {
    const state = await journeyStateOf(kit, workflowId);
    return state?.currentStep === step && (step !== 'csat-survey' || state.nextActionAt !== undefined) ? true : undefined;
  }, 20_000, what);
}

/** Path and query of an absolute link, for app.inject. */
export function pathOf(link: string): string {
  const url = new URL(link);
  return url.pathname + url.search;
}

/** An HTML form post's headers and body, for app.inject. */
export function formPost(fields: Record<string, string>) {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() };
}

/** Short sends, long waits: journeys stay running (and quiet) until an event moves them on or the test ends them. */
export const QUIET_ONBOARDING: CampaignDefinitionInput = {
  id: 'api-test-welcome',
  version: 1,
  stage: 'onboarding',
  reentry: 'never',
  steps: [
    { id: 'welcome', after: '0s', template: 'onboarding/welcome' },
    { id: 'tip-1', after: '1 hour', template: 'onboarding/tip-1' },
  ],
  finalWait: '1 hour',
};

export const QUIET_NURTURE: CampaignDefinitionInput = {
  id: 'api-test-nurture',
  version: 1,
  stage: 'nurture',
  touch: { every: '1 hour', template: 'nurture/touch' },
  loyalty: { pointsPerCurrencyUnit: 1, tiers: [{ name: 'standard', minPoints: 0 }, { name: 'silver', minPoints: 500 }], tierUpTemplate: 'nurture/tier-up' },
  anniversary: { every: '365 days', template: 'nurture/anniversary' },
  inactivity: { threshold: '1 day' },
};

/** Stops every journey the kit's task queue still runs, plus `workflowIds` (they would keep timers on the shared dev server). */
export async function terminateJourneys(kit: ApiKit, workflowIds: string[] = []): Promise<void> {
  const ids = new Set(workflowIds);
  for await (const info of kit.env.client.workflow.list({ query: `TaskQueue = ${JSON.stringify(kit.ctx.taskQueue)} AND ExecutionStatus = "Running"` })) {
    ids.add(info.workflowId);
  }
  await Promise.all([...ids].map((id) => kit.env.client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined)));
}

/** Long SLAs: nothing escalates while a test runs; the test drives the ticket itself. */
export const QUIET_COMPLAINT: CampaignDefinitionInput = {
  id: 'api-test-complaint',
  version: 1,
  stage: 'complaint',
  holdoutPercent: 0,
  sla: { firstResponse: '1 hour', resolution: '2 hours' },
  coreSla: { firstResponse: '1 hour', resolution: '2 hours' },
  templates: {
    acknowledge: 'complaint/acknowledge',
    update: 'complaint/update',
    escalated: 'complaint/escalated',
    resolved: 'complaint/resolved',
    survey: 'complaint/csat-survey',
    recovery: 'complaint/recovery',
  },
  csat: { timeout: '1 hour', lowRatingAtMost: 2 },
  recoveryOffer: { discountPercent: 20, validFor: '30 days' },
};
