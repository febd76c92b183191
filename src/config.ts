import path from 'node:path';
import { z } from 'zod';
import { allPowerfulToken, parseApiTokens } from './api-tokens';
import { isTimeZone } from './shared/time-zone';
import { parseDuration } from './shared/duration';

/** The widest WEBHOOK_TOLERANCE accepted: a signed support request is replayable for that long, so it stays short. */
const MAX_WEBHOOK_TOLERANCE_MS = 15 * 60_000;

/** Thrown when the environment does not describe a usable configuration; `message` names each bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const hostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, for example localhost:7233');
const port = z.coerce.number().int().min(1, 'expected a port number 1-65535').max(65535, 'expected a port number 1-65535');
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalText = z.string().min(1).optional();
const rateWindow = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) >= 1000, 'expected a duration of at least 1 second, such as "1 minute"');

/** Worker sizing defaults (WORKER_*), measured on a 2-core machine with one worker (README, issue 11). */
export const WORKER_DEFAULTS = {
  maxCachedWorkflows: 200,
  workflowHeapMb: 512,
  maxConcurrentWorkflowTasks: 40,
  maxConcurrentActivities: 100,
  maxConcurrentLocalActivities: 100,
} as const;

/**
 * Every setting the product reads from the environment. Defaults give the embedded setup:
 * a Temporal dev server on localhost, a SQLite file and a local outbox under `.data/`.
 */
const EnvSchema = z.object({
  /**
   * `development` allows the built-in credentials and a plain-http PUBLIC_BASE_URL (the demo, the tests, `npm run
   * fleet` on this machine); anything else is production, where the API and the worker refuse to start with them.
   */
  RETENTION_ENV: z.enum(['development', 'production'], { message: 'expected development or production' }).default('production'),
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('retention'),
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: optionalText,
  /** The Temporal server binary for `npm run fleet` (temporal-sql-tool beside it, or TEMPORAL_SQL_TOOL_PATH). */
  TEMPORAL_SERVER_PATH: optionalText,
  TEMPORAL_SQL_TOOL_PATH: optionalText,
  FLEET_WORKERS: z.coerce.number().int().min(1, 'expected 1 to 8 workers').max(8, 'expected 1 to 8 workers').default(2),
  FLEET_APIS: z.coerce.number().int().min(1, 'expected 1 to 8 API instances').max(8, 'expected 1 to 8 API instances').default(2),
  FLEET_POSTGRES_PORT: port.default(5433),
  DATA_DIR: z.string().min(1).default('.data'),
  CAMPAIGNS_DIR: z.string().min(1).default('campaigns'),
  ESCALATION_WEBHOOK_URL: z.url({ message: 'expected an absolute URL for the support escalation webhook' }).optional(),
  BRAND_NAME: z.string().min(1).default('Retention Orchestrator'),
  FREQUENCY_CAP_EMAIL: z.coerce.number().int().min(1, 'expected at least 1 message').default(5),
  FREQUENCY_CAP_SMS: z.coerce.number().int().min(1, 'expected at least 1 message').default(3),
  FREQUENCY_CAP_WINDOW: z.string().refine((v) => parseDuration(v) !== undefined, 'expected a duration such as "7 days" or "P7D"').default('7 days'),
  LINK_SIGNING_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  /** How long a survey link works after its message was sent (it is signed into the link). */
  SURVEY_LINK_VALID_FOR: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 60 * 60_000, 'expected a duration of at least 1 hour, such as "30 days"')
    .default('30 days'),
  /**
   * The last day (UTC) unsubscribe links signed before link tokens named their purpose still unsubscribe. They were
   * sent until this release was deployed and must work at least 30 days after (CAN-SPAM): move it later if the
   * release goes out after 2027-05-31.
   */
  LEGACY_UNSUBSCRIBE_LINKS_UNTIL: z.iso.date({ message: 'expected a date such as 2027-06-30' }).default('2027-06-30'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'expected sqlite:<file> or postgres://user:pass@host:port/db')
    .optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'expected smtp://user:pass@host:port or smtps://...').optional(),
  SMTP_FROM: z.string().min(3).default('Retention Orchestrator <hello@retention.local>'),
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  SMTP_RATE_PER_SECOND: z.coerce.number().int().min(1).default(50),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'expected an account SID: AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_FROM_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +15005550006').optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'expected MG followed by 32 hex digits').optional(),
  /** Sends Twilio's REST calls to another base URL (a Twilio-shaped test server); unset in production. */
  TWILIO_API_URL: z.url({ message: 'expected an absolute URL such as http://127.0.0.1:4010' }).optional(),
  /**
   * A lapsed send lease whose email may have gone out (the worker died between the SMTP server accepting it and
   * the ledger write): `resend` it with the same Message-ID, or `hold` it as in-doubt for a person to decide.
   */
  EMAIL_IN_DOUBT: z.enum(['resend', 'hold'], { message: 'expected resend or hold' }).default('resend'),
  TEMPLATES_DIR: z.string().min(1).optional(),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  PUBLIC_BASE_URL: z.url({ message: 'expected an absolute URL such as https://retention.example.com' }).optional(),
  /** Marketer API tokens with names and scopes (src/api-tokens.ts): `name:scope+scope:secret` or a bare all-scope `secret`, comma-separated. */
  API_TOKENS: z
    .string()
    .transform((value, ctx) => {
      const parsed = parseApiTokens(value);
      if (parsed.ok) return parsed.tokens;
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    })
    .optional(),
  SUPPORT_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  WINBACK_SWEEP_HOUR: z.coerce.number().int().min(0, 'expected an hour from 0 to 23').max(23, 'expected an hour from 0 to 23').default(6),
  WINBACK_SWEEP_TIMEZONE: z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Paris').default('UTC'),
  /**
   * Worker sizing (issue 11). Each cached workflow keeps its sandbox state in the worker's workflow thread (about
   * 1.2 MB of heap per journey measured after GC, mostly zod's modules and the schemas built from them, before zod was
   * loaded once per thread: src/workflows/preload.ts), so the cache bounds the
   * worker's memory: a journey evicted from it costs nothing until its next task, which replays its history. The SDK's
   * default is sized from the heap limit (about 2,300 on a 4 GB heap), which let RSS pass 2.4 GB after 1,000 journeys.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2, 'expected at least 2 workflows').default(WORKER_DEFAULTS.maxCachedWorkflows),
  /**
   * The V8 heap limit of the worker's workflow thread, where cached workflows live. Without it the thread gets the
   * default limit (about 4 GB here) and V8 collects so lazily that RSS passes 2 GB with only 250 workflows cached.
   */
  WORKER_WORKFLOW_HEAP_MB: z.coerce.number().int().min(128, 'expected at least 128 MB').default(WORKER_DEFAULTS.workflowHeapMb),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2, 'expected at least 2 workflow tasks').default(WORKER_DEFAULTS.maxConcurrentWorkflowTasks),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1, 'expected at least 1 activity').default(WORKER_DEFAULTS.maxConcurrentActivities),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1, 'expected at least 1 local activity').default(WORKER_DEFAULTS.maxConcurrentLocalActivities),
  /** A workflow bundle built ahead (`node src/workers/bundle-child.ts <file>` or its build); without it each worker builds one at start, in a child process. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /**
   * Rate limits (issue 12), counted in the store so every API instance sees the same count: requests per client
   * address to the customer-facing links, and failed authentications (401/403) per client address on the marketer
   * and support routes, each per fixed window.
   */
  RATE_LIMIT_LINKS: z.coerce.number().int().min(1, 'expected at least 1 request').default(60),
  RATE_LIMIT_LINKS_WINDOW: rateWindow.default('1 minute'),
  RATE_LIMIT_FAILED_AUTH: z.coerce.number().int().min(1, 'expected at least 1 failed authentication').default(20),
  RATE_LIMIT_FAILED_AUTH_WINDOW: rateWindow.default('15 minutes'),
  /**
   * How many proxies in front of the API append to X-Forwarded-For (1: the load balancer). The client address the
   * rate limits count is the one the outermost trusted proxy saw; trusting every hop would let a client pick its own
   * address by sending the header.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0, 'expected 0 to 10 proxies').max(10, 'expected 0 to 10 proxies').default(1),
  WEBHOOK_TOLERANCE: z
    .string()
    .refine((v) => parseDuration(v) !== undefined, 'expected a duration such as "5 minutes"')
    .refine((v) => (parseDuration(v) ?? 0) <= MAX_WEBHOOK_TOLERANCE_MS, 'expected at most 15 minutes: a signed request can be replayed for that long')
    .default('5 minutes'),
});

/** Development-only credentials used when the embedded default runs without configured ones; never for production. */
export const DEV_CREDENTIALS = {
  apiToken: 'dev-marketer-token-change-me',
  supportWebhookSecret: 'dev-support-webhook-secret-change-me',
  linkSigningSecret: 'dev-only-link-signing-secret-change-me',
} as const;

/** The processes that check their configuration before they start serving. */
export type ServingRole = 'api' | 'worker';

export type Env = Record<string, string | undefined>;


/** Variables holding credentials: a message about them never repeats their value (it would end up in logs). */
const SECRET_VARIABLES = new Set(['API_TOKENS', 'SUPPORT_WEBHOOK_SECRET', 'LINK_SIGNING_SECRET', 'TWILIO_AUTH_TOKEN', 'TEMPORAL_API_KEY']);

function describeIssues(error: z.ZodError, env: Env): string {
  return error.issues
    .map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const got = env[variable];
      const shown = got === undefined ? ' (not set)' : SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(got)})`;
      return `  ${variable}: ${issue.message}${shown}`;
    })
    .join('\n');
}

export function loadConfig(env: Env = process.env) {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${describeIssues(parsed.error, env)}`);
  }
  const e = parsed.data;
  if (e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > e.WORKER_MAX_CACHED_WORKFLOWS) {
    throw new ConfigError(
      `Invalid configuration:\n  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected at most WORKER_MAX_CACHED_WORKFLOWS (${e.WORKER_MAX_CACHED_WORKFLOWS}) (got ${e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS})`,
    );
  }
  if (Boolean(e.TWILIO_ACCOUNT_SID) !== Boolean(e.TWILIO_AUTH_TOKEN)) {
    throw new ConfigError('Invalid configuration:\n  TWILIO_AUTH_TOKEN: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together');
  }
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_FROM_NUMBER && !e.TWILIO_MESSAGING_SERVICE_SID) {
    throw new ConfigError(
      'Invalid configuration:\n  TWILIO_FROM_NUMBER: set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID when Twilio is configured',
    );
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const embedded = e.TEMPORAL_ADDRESS === undefined;
  return {
    temporal: {
      /** True when no cluster is configured: the project runs its own dev server. */
      embedded,
      address: e.TEMPORAL_ADDRESS ?? `localhost:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS ?? Boolean(e.TEMPORAL_API_KEY),
      devServer: {
        port: e.TEMPORAL_PORT,
        uiPort: e.TEMPORAL_UI_PORT,
        cliPath: e.TEMPORAL_CLI_PATH,
        dbFile: path.join(dataDir, 'temporal.sqlite'),
      },
    },
    /**
     * `npm run fleet`: the production shape on this machine. PostgreSQL (own cluster in DATA_DIR/fleet), a Temporal
     * server on it at TEMPORAL_PORT, FLEET_WORKERS workers and FLEET_APIS API instances on HTTP_PORT, HTTP_PORT+1...
     */
    fleet: {
      dir: path.join(dataDir, 'fleet'),
      workers: e.FLEET_WORKERS,
      apis: e.FLEET_APIS,
      postgresPort: e.FLEET_POSTGRES_PORT,
      temporalPort: e.TEMPORAL_PORT,
      serverPath: e.TEMPORAL_SERVER_PATH,
      sqlToolPath: e.TEMPORAL_SQL_TOOL_PATH,
    },
    /** Worker.create sizing: workflow cache and task slots (WORKER_*). */
    worker: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      workflowHeapMb: e.WORKER_WORKFLOW_HEAP_MB,
      maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivityExecutions: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    },
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    dataDir,
    campaignsDir: path.resolve(e.CAMPAIGNS_DIR),
    templatesDir: e.TEMPLATES_DIR === undefined ? undefined : path.resolve(e.TEMPLATES_DIR),
    escalationWebhookUrl: e.ESCALATION_WEBHOOK_URL,
    /** RETENTION_ENV=development: built-in credentials and plain http allowed (see requireSafeToServe). */
    development: e.RETENTION_ENV === 'development',
    linkSigningSecret: e.LINK_SIGNING_SECRET ?? DEV_CREDENTIALS.linkSigningSecret,
    links: {
      surveyValidForMs: parseDuration(e.SURVEY_LINK_VALID_FOR) as number,
      /** Unsubscribe tokens of the format before v2 are honoured before this instant (the end of that UTC day). */
      legacyUnsubscribeUntil: new Date(`${e.LEGACY_UNSUBSCRIBE_LINKS_UNTIL}T24:00:00Z`),
    },
    brandName: e.BRAND_NAME,
    frequencyCap: {
      email: { max: e.FREQUENCY_CAP_EMAIL, windowMs: parseDuration(e.FREQUENCY_CAP_WINDOW) as number },
      sms: { max: e.FREQUENCY_CAP_SMS, windowMs: parseDuration(e.FREQUENCY_CAP_WINDOW) as number },
    },
    /** When the daily win-back sweep runs (Temporal Schedule `winback-sweep-daily`). */
    schedules: { sweepHour: e.WINBACK_SWEEP_HOUR, timezone: e.WINBACK_SWEEP_TIMEZONE },
    database: { url: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'retention.sqlite')}` },
    email: {
      smtpUrl: e.SMTP_URL,
      from: e.SMTP_FROM,
      poolSize: e.SMTP_POOL_SIZE,
      ratePerSecond: e.SMTP_RATE_PER_SECOND,
      outboxDir: path.join(dataDir, 'outbox'),
    },
    /** What a send in doubt does for email (EMAIL_IN_DOUBT); SMS asks Twilio instead. */
    emailInDoubt: e.EMAIL_IN_DOUBT,
    /** Twilio's REST base URL when it is not Twilio's own (TWILIO_API_URL: a Twilio-shaped test server). */
    twilioApiUrl: e.TWILIO_API_URL,
    sms: e.TWILIO_ACCOUNT_SID
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN as string,
          fromNumber: e.TWILIO_FROM_NUMBER,
          messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
        }
      : undefined,
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}`).replace(/\/+$/, ''),
      /** Tokens accepted on the marketer endpoints (Authorization: Bearer <secret>), each with a name and scopes. */
      apiTokens: e.API_TOKENS ?? [allPowerfulToken('development', DEV_CREDENTIALS.apiToken)],
      /** Shared secret of the support system's HMAC-signed webhooks. */
      supportWebhookSecret: e.SUPPORT_WEBHOOK_SECRET ?? DEV_CREDENTIALS.supportWebhookSecret,
      /** How old a signed webhook's timestamp may be (either way) before it is refused as a replay. */
      webhookToleranceMs: parseDuration(e.WEBHOOK_TOLERANCE) as number,
      /** Proxies in front of the API whose X-Forwarded-For entries are trusted (Fastify's trustProxy hop count). */
      trustProxyHops: e.TRUST_PROXY_HOPS,
      rateLimits: {
        /** Requests per client address to the customer-facing links (unsubscribe, surveys). */
        links: { max: e.RATE_LIMIT_LINKS, windowMs: parseDuration(e.RATE_LIMIT_LINKS_WINDOW) as number },
        /** Failed authentications per client address on the marketer and support routes. */
        failedAuth: { max: e.RATE_LIMIT_FAILED_AUTH, windowMs: parseDuration(e.RATE_LIMIT_FAILED_AUTH_WINDOW) as number },
      },
    },
    /** The settings left to their development defaults, for requireSafeToServe. */
    unset: {
      apiTokens: !e.API_TOKENS,
      supportWebhookSecret: !e.SUPPORT_WEBHOOK_SECRET,
      linkSigningSecret: !e.LINK_SIGNING_SECRET,
      publicBaseUrl: !e.PUBLIC_BASE_URL,
    },
  };
}

export type AppConfig = ReturnType<typeof loadConfig>;

/**
 * What must be set before `role` may serve outside development, one line per variable: the built-in credentials are
 * public (they are in this repository), and PUBLIC_BASE_URL is what every unsubscribe and survey link, List-Unsubscribe
 * header and Twilio signature is made from, so it must be the real https address. Empty in development.
 */
export function unsafeToServe(config: AppConfig, role: ServingRole): string[] {
  if (config.development) return [];
  const lines: string[] = [];
  if (role === 'api' && config.unset.apiTokens) {
    lines.push(
      'API_TOKENS: set the marketer API tokens (comma-separated name:scope+scope:secret entries, or bare all-scope secrets; at least 16 characters each); the built-in development token is public',
    );
  }
  if (role === 'api' && config.unset.supportWebhookSecret) {
    lines.push("SUPPORT_WEBHOOK_SECRET: set the secret the support system signs its webhooks with (at least 16 characters); the built-in one is public");
  }
  if (config.unset.linkSigningSecret) {
    lines.push('LINK_SIGNING_SECRET: set a secret of at least 16 characters; it signs every unsubscribe and survey link, and the built-in one is public');
  }
  if (config.unset.publicBaseUrl) {
    lines.push('PUBLIC_BASE_URL: set the https address customers and Twilio reach the API at, such as https://retention.example.com');
  } else if (!config.http.publicBaseUrl.startsWith('https://')) {
    lines.push(`PUBLIC_BASE_URL: expected an https address outside development (got ${JSON.stringify(config.http.publicBaseUrl)})`);
  }
  return lines;
}

/** Throws a ConfigError naming each variable to set when `role` would serve with development settings outside development. */
export function requireSafeToServe(config: AppConfig, role: ServingRole): void {
  const lines = unsafeToServe(config, role);
  if (lines.length === 0) return;
  throw new ConfigError(
    `Refusing to start the ${role === 'api' ? 'API' : 'worker'} with development settings (RETENTION_ENV is not development). Set:\n` +
      lines.map((line) => `  ${line}`).join('\n') +
      '\n(or RETENTION_ENV=development for a trial on this machine)',
  );
}
