import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from './api-client';
import { CHAOS_CAMPAIGNS_DIR } from './campaigns';
import { startOutsideWorld, type OutsideWorld } from './outside-world';
import { baseEnv, logMatches, nodeTsProcess, type ManagedProcess } from '../../src/dev/supervisor';
import type { TemporalServer } from './temporal';
import { freePort, portOpen } from './util';

export type InDoubtPolicy = 'resend' | 'hold';

export interface StackOptions {
  /** Folder name under the run's directory, also the task queue's prefix. */
  name: string;
  runDir: string;
  /** The chaos copy of templates/ (see writeChaosTemplates). */
  templatesDir: string;
  temporal: TemporalServer;
  /** DATABASE_URL; default a fresh SQLite file in the stack's folder. */
  databaseUrl?: string;
  emailInDoubt?: InDoubtPolicy;
}

/** The production processes of one scenario (worker and API, each a real `node` process) and their outside world. */
export interface Stack {
  name: string;
  dir: string;
  logDir: string;
  taskQueue: string;
  databaseUrl: string;
  emailInDoubt: InDoubtPolicy;
  temporal: TemporalServer;
  world: OutsideWorld;
  /** The first (in a fleet) or only worker, API and API client. */
  worker: ManagedProcess;
  api: ManagedProcess;
  client: ApiClient;
  /** Every worker and API instance, and a client for each API instance (one of each outside a fleet). */
  workers: ManagedProcess[];
  apis: ManagedProcess[];
  clients: ApiClient[];
  stop(): Promise<void>;
}

export const API_TOKEN = 'chaos-marketer-token-0123456789';
export const WEBHOOK_SECRET = 'chaos-support-webhook-secret-0123';

/** What every worker and API of a scenario gets: the fakes as providers, chaos campaigns and templates, test secrets. */
export function productEnv(options: {
  dir: string;
  taskQueue: string;
  templatesDir: string;
  world: OutsideWorld;
  emailInDoubt: InDoubtPolicy;
}): Record<string, string> {
  const { world } = options;
  return {
    ...baseEnv(),
    RETENTION_ENV: 'development',
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    DATA_DIR: path.join(options.dir, 'data'),
    CAMPAIGNS_DIR: CHAOS_CAMPAIGNS_DIR,
    TEMPLATES_DIR: options.templatesDir,
    SMTP_URL: `smtp://127.0.0.1:${world.smtp.port}`,
    SMTP_RATE_PER_SECOND: '1000',
    TWILIO_ACCOUNT_SID: world.twilioAccount.accountSid,
    TWILIO_AUTH_TOKEN: world.twilioAccount.authToken,
    TWILIO_FROM_NUMBER: world.twilioAccount.fromNumber,
    TWILIO_API_URL: `http://127.0.0.1:${world.twilio.port}`,
    FREQUENCY_CAP_EMAIL: '1000',
    FREQUENCY_CAP_SMS: '1000',
    EMAIL_IN_DOUBT: options.emailInDoubt,
    API_TOKENS: API_TOKEN,
    SUPPORT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    LINK_SIGNING_SECRET: 'chaos-link-signing-secret-0123',
  };
}

export function chaosTaskQueue(name: string): string {
  return `chaos-${name}-${randomBytes(3).toString('hex')}`;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = path.join(options.runDir, options.name);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const taskQueue = chaosTaskQueue(options.name);
  const databaseUrl = options.databaseUrl ?? `sqlite:${path.join(dir, 'store.sqlite')}`;
  const emailInDoubt = options.emailInDoubt ?? 'resend';
  const [world, httpPort] = await Promise.all([startOutsideWorld(dir, logDir), freePort()]);
  const env: Record<string, string> = {
    ...productEnv({ dir, taskQueue, templatesDir: options.templatesDir, world, emailInDoubt }),
    TEMPORAL_ADDRESS: options.temporal.address,
    DATABASE_URL: databaseUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
  };
  const worker = nodeTsProcess({
    name: 'worker',
    entry: 'src/workers/main.ts',
    env,
    logDir,
    ready: logMatches(/worker polling task queue/),
    readyTimeoutMs: 120_000,
  });
  const api = nodeTsProcess({
    name: 'api',
    entry: 'src/triggers/http/main.ts',
    env,
    logDir,
    ready: async (p) => logMatches(/API on /)(p) && portOpen(httpPort),
    readyTimeoutMs: 60_000,
  });
  try {
    // One after the other: both migrate the store at start.
    await worker.start();
    await api.start();
  } catch (err) {
    await Promise.all([worker.stop(2000), api.stop(2000), world.stop()]);
    throw err;
  }
  const client = new ApiClient(`http://127.0.0.1:${httpPort}`, API_TOKEN, WEBHOOK_SECRET);
  return {
    name: options.name,
    dir,
    logDir,
    taskQueue,
    databaseUrl,
    emailInDoubt,
    temporal: options.temporal,
    world,
    worker,
    api,
    client,
    workers: [worker],
    apis: [api],
    clients: [client],
    async stop() {
      await Promise.all([worker.stop(15_000), api.stop(5000)]);
      await world.stop();
    },
  };
}
