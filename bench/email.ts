/**
 * Email delivery benchmark (issue 4): pooled SMTP transport vs one connection per message against a real local
 * SMTP server, and the latency the send ledger and consent checks add per send on SQLite.
 *
 *   npm run bench:email -- [--messages 300] [--concurrency 5,20] [--pool-size 5] [--ledger-sends 3000]
 *                          [--security both|plain|starttls-auth]
 *
 * Flags may also come from BENCH_MESSAGES, BENCH_CONCURRENCY, BENCH_POOL_SIZE, BENCH_LEDGER_SENDS, BENCH_SECURITY.
 * Human-readable lines first; the last line is one JSON object with the figures.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { z } from 'zod';
import { loadConfig } from '../src/config';
import { createEmailTransport, type EmailMessage } from '../src/delivery/email';
import { createStore, type Store } from '../src/store';

const SECURITY_MODES = ['plain', 'starttls-auth'] as const;
type Security = (typeof SECURITY_MODES)[number];

const OptionsSchema = z.object({
  messages: z.coerce.number().int().min(10, 'expected at least 10 messages').max(100_000).default(300),
  /** Caller concurrencies to measure, the same for both transports; the first one is the headline. */
  concurrency: z
    .string()
    .default('5,20')
    .transform((list) => list.split(',').map((c) => Number(c.trim())))
    .pipe(z.array(z.number().int('expected whole numbers such as 5,20').min(1).max(500)).min(1)),
  poolSize: z.coerce.number().int().min(1).max(100).default(5),
  ledgerSends: z.coerce.number().int().min(100, 'expected at least 100 sends').max(100_000).default(3000),
  security: z.enum([...SECURITY_MODES, 'both']).default('both'),
});
type Options = z.infer<typeof OptionsSchema>;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string' },
      concurrency: { type: 'string' },
      'pool-size': { type: 'string' },
      'ledger-sends': { type: 'string' },
      security: { type: 'string' },
    },
  });
  const parsed = OptionsSchema.safeParse({
    messages: values.messages ?? env.BENCH_MESSAGES,
    concurrency: values.concurrency ?? env.BENCH_CONCURRENCY,
    poolSize: values['pool-size'] ?? env.BENCH_POOL_SIZE,
    ledgerSends: values['ledger-sends'] ?? env.BENCH_LEDGER_SENDS,
    security: values.security ?? env.BENCH_SECURITY,
  });
  if (!parsed.success) {
    const flag = (key: PropertyKey | undefined) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new Error(parsed.error.issues.map((i) => `${flag(i.path[0])}: ${i.message}`).join('\n'));
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------------------
// A lean local SMTP server

const SMTP_USER = 'bench';
const SMTP_PASS = 'bench-secret';

interface BenchSmtpServer {
  url: string;
  readonly received: number;
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * `plain`: no TLS, no AUTH (loopback connections are then nearly free). `starttls-auth`: what a real submission
 * server asks of every connection, STARTTLS (smtp-server's bundled self-signed localhost certificate) then AUTH.
 */
async function startBenchSmtpServer(security: Security): Promise<BenchSmtpServer> {
  let received = 0;
  let connections = 0;
  const server = new SMTPServer({
    logger: false,
    size: 10 * 1024 * 1024,
    maxClients: 1000,
    ...(security === 'plain'
      ? { disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true }
      : {
          authMethods: ['PLAIN', 'LOGIN'],
          onAuth(auth, _session, callback) {
            if (auth.username === SMTP_USER && auth.password === SMTP_PASS) return callback(null, { user: auth.username });
            callback(new Error('535 5.7.8 Authentication credentials invalid'));
          },
        }),
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  const credentials = security === 'plain' ? '' : `${SMTP_USER}:${SMTP_PASS}@`;
  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    get received() {
      return received;
    },
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput: pooled vs one connection per message

const HTML_BODY = `<html><body><h1>Welcome aboard</h1>${'<p>Here is a tip to get the most out of your account. '.repeat(40)}</p></body></html>`;
const TEXT_BODY = `Welcome aboard\n\n${'Here is a tip to get the most out of your account. '.repeat(40)}`;

function benchMessage(run: string, i: number): EmailMessage {
  return {
    to: `customer-${i}@example.com`,
    subject: `Welcome, customer ${i}`,
    html: HTML_BODY,
    text: TEXT_BODY,
    messageId: `<bench-${run}-${i}@retention.local>`,
    unsubscribe: { url: `https://shop.test/u/${i}` },
  };
}

type SendFn = (msg: EmailMessage) => Promise<unknown>;

/** Sends messages `0..count-1` with `concurrency` callers pulling from one counter; returns elapsed ms. */
async function sendAll(send: SendFn, run: string, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await send(benchMessage(run, i));
      }
    }),
  );
  return performance.now() - started;
}

interface TransportFigures {
  perSec: number;
  elapsedMs: number;
  /** Connections the server accepted for this transport, warm-up included. */
  connections: number;
}

const TLS_FOR_SELF_SIGNED = { rejectUnauthorized: false };
const FROM = 'Shop <hello@shop.test>';

async function measureTransport(label: string, server: BenchSmtpServer, send: SendFn, messages: number, concurrency: number): Promise<TransportFigures> {
  const connectionsBefore = server.connections;
  // warm-up (JIT, first TLS context), not timed
  await sendAll(send, `${label}-warmup`, Math.min(50, messages), concurrency);
  const receivedBefore = server.received;
  const elapsedMs = await sendAll(send, label, messages, concurrency);
  const received = server.received - receivedBefore;
  if (received !== messages) throw new Error(`${label}: the server received ${received} of ${messages} messages`);
  return { perSec: (messages / elapsedMs) * 1000, elapsedMs, connections: server.connections - connectionsBefore };
}

interface ScenarioFigures {
  security: Security;
  concurrency: number;
  pooled: TransportFigures;
  unpooled: TransportFigures;
  ratio: number;
}

async function measureScenario(security: Security, concurrency: number, options: Options): Promise<ScenarioFigures> {
  const server = await startBenchSmtpServer(security);
  const tls = security === 'plain' ? {} : { requireTLS: true, tls: TLS_FOR_SELF_SIGNED };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-email-'));
  // (a) the project's transport, rate limit far above what loopback can reach so it never throttles
  const pooled = createEmailTransport(
    { smtpUrl: server.url, from: FROM, poolSize: options.poolSize, ratePerSecond: 1_000_000, outboxDir: path.join(dir, 'outbox') },
    { smtp: tls },
  );
  // (b) plain nodemailer without a pool: a fresh connection (greeting, EHLO[, STARTTLS, EHLO, AUTH]) per message
  const unpooled = nodemailer.createTransport({ url: server.url, pool: false, ...tls });
  const unpooledSend: SendFn = (msg) =>
    unpooled.sendMail({
      from: FROM,
      to: msg.to,
      subject: msg.subject,
      html: msg.html,
      text: msg.text,
      messageId: msg.messageId,
      list: { unsubscribe: [[msg.unsubscribe.url, 'mailto:unsubscribe@shop.test?subject=unsubscribe']] },
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
  try {
    const label = `${security}-c${concurrency}`;
    const pooledFigures = await measureTransport(`${label}-pooled`, server, (msg) => pooled.sendEmail(msg), options.messages, concurrency);
    const unpooledFigures = await measureTransport(`${label}-unpooled`, server, unpooledSend, options.messages, concurrency);
    return { security, concurrency, pooled: pooledFigures, unpooled: unpooledFigures, ratio: pooledFigures.perSec / unpooledFigures.perSec };
  } finally {
    pooled.close();
    unpooled.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ledger and consent latency: exactly the store calls sendMessage (src/activities/send-message.ts) makes around
// a successful email send, in the same order

async function ledgerAndConsentChecks(store: Store, customerId: string, i: number, cap: { max: number; windowMs: number }): Promise<void> {
  const workflowId = `onboarding-${customerId}`;
  const stepId = `tip-${i}`;
  const key = { workflowId, runId: 'bench-run', stepId };
  const owner = `bench-${i}`;
  const claim = await store.claimSend({ ...key, customerId, channel: 'email', owner, leaseMs: 30_000 });
  if (claim.kind !== 'owned') throw new Error(`ledger entry ${workflowId}/${stepId} is ${claim.entry.status}`);
  const customer = await store.getCustomer(customerId);
  if (!customer?.email || !customer.consentEmail) throw new Error(`customer ${customerId} cannot receive email`);
  if (await store.isSuppressed('email', customer.email)) throw new Error(`${customer.email} is suppressed`);
  const allowed = await store.reserveFrequencySlot({
    customerId,
    channel: 'email',
    max: cap.max,
    windowMs: cap.windowMs,
    now: new Date(),
    key: `${workflowId}/${key.runId}/${stepId}`,
  });
  if (!allowed) throw new Error(`frequency cap reached for ${customerId}`);
  // ... the message is rendered here; the lease is checked and extended right before the transport ...
  if (!(await store.beginTransport(key, owner, new Date(Date.now() + 30_000), 'email'))) throw new Error('lease lost');
  const providerMessageId = `<${workflowId}.${key.runId}.${stepId}@retention.local>`;
  await store.completeSend(key, { status: 'sent', channel: 'email', providerMessageId });
  await store.recordOutcome({
    customerId,
    stage: 'onboarding',
    campaignId: 'bench',
    step: stepId,
    variant: 'control',
    holdout: false,
    channel: 'email',
    status: 'sent',
    reason: null,
    workflowId,
    occurredAt: new Date(),
    data: { template: 'onboarding/tip-1', providerMessageId },
    factKey: `send/${workflowId}/${key.runId}/${stepId}/sent`,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Distribution {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function distribution(samples: number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) as number };
}

/**
 * A fixed amount of CPU work (a SHA-256 chain), timed between the sends: its tail shows how much of the ledger's
 * tail is this machine's scheduling jitter (other processes on the same cores, GC) rather than the store.
 */
async function referenceTask(): Promise<void> {
  let digest = Buffer.alloc(32);
  for (let i = 0; i < 300; i++) digest = createHash('sha256').update(digest).digest();
  await new Promise((resolve) => setImmediate(resolve));
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

interface LedgerFigures {
  sends: number;
  ledger: Distribution;
  reference: Distribution;
}

async function measureLedger(sends: number): Promise<LedgerFigures> {
  const { frequencyCap } = loadConfig({});
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-ledger-'));
  const store = await createStore(`sqlite:${path.join(dir, 'store.sqlite')}`);
  try {
    await store.migrate();
    const warmup = 100;
    // each customer gets as many sends as the default frequency cap allows, so every send takes the "sent" path
    const customers = Math.ceil((warmup + sends) / frequencyCap.email.max);
    for (let c = 0; c < customers; c++) {
      await store.upsertCustomer({ id: `bench-${c}`, name: `Customer ${c}`, email: `bench-${c}@example.com`, consentEmail: true });
    }
    const ledger: number[] = [];
    const reference: number[] = [];
    for (let i = 0; i < warmup + sends; i++) {
      const ledgerMs = await timed(() => ledgerAndConsentChecks(store, `bench-${i % customers}`, i, frequencyCap.email));
      const referenceMs = await timed(referenceTask);
      if (i < warmup) continue;
      ledger.push(ledgerMs);
      reference.push(referenceMs);
    }
    return { sends, ledger: distribution(ledger), reference: distribution(reference) };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const ms = (d: Distribution) => `p50 ${round(d.p50Ms, 3)} ms, p99 ${round(d.p99Ms, 3)} ms, max ${round(d.maxMs, 1)} ms`;

function printScenario(s: ScenarioFigures): void {
  const line = (name: string, t: TransportFigures) =>
    `  ${s.security.padEnd(13)} c=${String(s.concurrency).padEnd(3)} ${name.padEnd(8)} ${round(t.perSec).toString().padStart(7)} msg/s ` +
    `(${round(t.elapsedMs, 0)} ms, ${t.connections} connections)`;
  console.log(line('pooled', s.pooled));
  console.log(line('unpooled', s.unpooled));
  console.log(`  ${s.security.padEnd(13)} c=${String(s.concurrency).padEnd(3)} ratio    ${round(s.ratio, 2)}x (target >= 5x)`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const modes: Security[] = options.security === 'both' ? [...SECURITY_MODES] : [options.security];
  console.log(
    `email bench: ${options.messages} messages per transport and run; the same caller concurrency (c) for both transports; ` +
      `pool of ${options.poolSize} connections (nodemailer recycles each after 100 messages); ` +
      `SMTP server (smtp-server, pauses 100 ms before each greeting) in this process on 127.0.0.1; node ${process.version}, ${os.cpus().length} CPUs, ` +
      `load average ${os.loadavg()[0]?.toFixed(2)}`,
  );
  const scenarios: ScenarioFigures[] = [];
  for (const security of modes) {
    for (const concurrency of options.concurrency) {
      const s = await measureScenario(security, concurrency, options);
      scenarios.push(s);
      printScenario(s);
    }
  }

  const ledger = await measureLedger(options.ledgerSends);
  console.log(`ledger + consent store work per send (SQLite file, ${ledger.sends} sends one at a time): ${ms(ledger.ledger)} (target p99 < 5 ms)`);
  console.log(`  reference: fixed CPU task timed between those sends (machine jitter): ${ms(ledger.reference)}`);

  // the headline: STARTTLS + AUTH when measured (what a real submission server asks for), at the first concurrency
  const headline = scenarios.find((s) => s.security === 'starttls-auth') ?? (scenarios[0] as ScenarioFigures);
  console.log(
    JSON.stringify({
      messages: options.messages,
      concurrency: headline.concurrency,
      poolSize: options.poolSize,
      security: headline.security,
      pooledPerSec: round(headline.pooled.perSec),
      unpooledPerSec: round(headline.unpooled.perSec),
      ratio: round(headline.ratio, 2),
      ledgerP50Ms: round(ledger.ledger.p50Ms, 3),
      ledgerP99Ms: round(ledger.ledger.p99Ms, 3),
      ledgerMaxMs: round(ledger.ledger.maxMs, 3),
      ledgerSends: ledger.sends,
      referenceP99Ms: round(ledger.reference.p99Ms, 3),
      loadAverage: round(os.loadavg()[0] ?? 0, 2),
      scenarios: scenarios.map((s) => ({
        security: s.security,
        concurrency: s.concurrency,
        pooledPerSec: round(s.pooled.perSec),
        unpooledPerSec: round(s.unpooled.perSec),
        ratio: round(s.ratio, 2),
      })),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
