/**
 * `npm run bench:report`: seeds a temporary SQLite store with 1,000,000 outcome rows shaped like the stages write
 * them (onboarding with A/B variants and a holdout, nurture purchases, win-back, complaints with CSAT) plus their
 * customers and delivery receipts, then times computeReport over the whole year. Last line: one JSON object.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { computeReport, type ReportTimings } from '../src/reports/compute';
import { createStore } from '../src/store';

const TARGET_ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const YEAR_START = Date.UTC(2025, 0, 1);
const YEAR_END = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** mulberry32: a small seeded generator, so every run seeds the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type OutcomeRow = [string, string, string, string, string, number, string | null, string, string | null, number | null, string, number, string | null];

async function seed(file: string): Promise<{ rows: number; customers: number; seedMs: number }> {
  const started = performance.now();
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  // Loading into unindexed tables and indexing once afterwards is several times faster than keeping indexes current.
  const indexes = db
    .prepare(`select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('outcomes', 'customers', 'message_status')`)
    .all() as { name: string; sql: string }[];
  for (const index of indexes) db.exec(`drop index ${index.name}`);
  const insertCustomer = db.prepare(
    `insert into customers (id, name, email, phone, timezone, locale, tier, points, total_spend, preferred_channel, consent_email, consent_sms, created_at, updated_at, last_activity_at)
     values (?, ?, ?, null, 'UTC', 'en', ?, 0, ?, 'email', 1, 0, ?, ?, ?)`,
  );
  const insertOutcome = db.prepare(
    `insert into outcomes (customer_id, stage, campaign_id, step, variant, holdout, channel, status, reason, value, workflow_id, occurred_at, data)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertStatus = db.prepare(`insert into message_status (provider_message_id, channel, status, status_rank, updated_at) values (?, 'email', ?, 4, ?)`);
  const rnd = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  let rows = 0;
  let customers = 0;
  let messageSeq = 0;

  const seedAll = db.transaction(() => {
    while (rows < TARGET_ROWS) {
      const id = `cust-${String(++customers).padStart(7, '0')}`;
      const createdAt = YEAR_START - 180 * DAY + Math.floor(rnd() * 540 * DAY);
      const tierDraw = rnd();
      const tier = tierDraw < 0.7 ? 'standard' : tierDraw < 0.92 ? 'silver' : 'gold';
      let spend = 0;
      const out = (stage: string, campaign: string, wf: string, variant: string, holdout: boolean, step: string, status: string, at: number, extra: { channel?: string; reason?: string; value?: number; data?: string } = {}) => {
        if (rows >= TARGET_ROWS || at >= YEAR_END) return;
        const row: OutcomeRow = [id, stage, campaign, step, variant, holdout ? 1 : 0, extra.channel ?? null, status, extra.reason ?? null, extra.value ?? null, wf, at, extra.data ?? null];
        insertOutcome.run(...row);
        rows++;
      };
      const send = (stage: string, campaign: string, wf: string, variant: string, holdout: boolean, step: string, at: number) => {
        if (holdout) return out(stage, campaign, wf, variant, holdout, step, 'skipped', at, { reason: 'holdout' });
        const draw = rnd();
        if (draw < 0.04) return out(stage, campaign, wf, variant, holdout, step, 'skipped', at, { channel: 'email', reason: pick(['no-email-consent', 'email-suppressed', 'frequency-cap']) });
        if (draw < 0.06) return out(stage, campaign, wf, variant, holdout, step, draw < 0.05 ? 'bounced' : 'failed', at, { channel: 'email', reason: 'invalid-address: 550 no such user' });
        const providerMessageId = `<msg-${++messageSeq}@retention.local>`;
        out(stage, campaign, wf, variant, holdout, step, 'sent', at, { channel: 'email', data: JSON.stringify({ template: `${stage}/${step}`, providerMessageId }) });
        if (rnd() < 0.9) insertStatus.run(providerMessageId, rnd() < 0.97 ? 'delivered' : 'read', at + 60_000);
      };

      // Onboarding from signup: A/B variants, 10% holdout; treatment converts a bit more often.
      let t = createdAt;
      {
        const wf = `onboarding-${id}`;
        const holdout = rnd() < 0.1;
        const variant = rnd() < 0.5 ? 'A' : 'B';
        out('onboarding', 'welcome', wf, variant, holdout, 'start', 'entered', t, { data: '{"campaignVersion":1}' });
        const convertAt = rnd() < (holdout ? 0.25 : variant === 'A' ? 0.3 : 0.34) ? t + Math.floor(rnd() * 8 * DAY) : Infinity;
        let step = 0;
        for (const [name, after] of [['welcome', 0], ['tip-1', DAY], ['tip-2', 2 * DAY], ['tip-3', 3 * DAY]] as const) {
          t += after;
          if (step++ > 0 && t > convertAt) break;
          send('onboarding', 'welcome', wf, variant, holdout, name, t);
        }
        t = Math.max(t, Math.min(convertAt, createdAt + 8 * DAY));
        out('onboarding', 'welcome', wf, variant, holdout, 'tip-3', convertAt <= t ? 'converted' : 'completed', t);
      }
      // Nurture: monthly touches and purchases until the customer lapses (60 days inactive) or the year ends.
      const nurtureHoldout = rnd() < 0.05;
      const nurtureWf = `nurture-${id}`;
      out('nurture', 'steady-nurture', nurtureWf, 'control', nurtureHoldout, 'start', 'entered', t);
      const buysPerMonth = rnd() * 1.2;
      let lastActivity = t;
      let lapsedAt: number | undefined;
      while (t < YEAR_END && rows < TARGET_ROWS) {
        t += 30 * DAY;
        const purchases = rnd() < buysPerMonth ? 1 + Math.floor(rnd() * 2) : 0;
        for (let i = 0; i < purchases; i++) {
          const amount = Math.round((15 + rnd() * rnd() * 400) * 100) / 100;
          spend += amount;
          lastActivity = t - Math.floor(rnd() * 29 * DAY);
          out('nurture', 'steady-nurture', nurtureWf, 'control', nurtureHoldout, 'waiting', 'purchase', lastActivity, { value: amount });
        }
        if (t - lastActivity >= 60 * DAY) {
          lapsedAt = t;
          out('nurture', 'steady-nurture', nurtureWf, 'control', nurtureHoldout, 'waiting', 'lapsed', t);
          break;
        }
        send('nurture', 'steady-nurture', nurtureWf, 'control', nurtureHoldout, `touch-${t}`, t);
      }
      // Win-back for the lapsed: three messages, a purchase wins them back, otherwise churn with a survey reason.
      if (lapsedAt !== undefined) {
        const wf = `winback-${id}`;
        const holdout = rnd() < 0.1;
        const variant = rnd() < 0.5 ? 'control' : 'bigger-discount';
        let w = lapsedAt;
        out('winback', 'winback-offer', wf, variant, holdout, 'start', 'entered', w);
        for (const [name, after] of [['miss-you', 0], ['offer', 3 * DAY], ['last-chance', 4 * DAY]] as const) {
          w += after;
          send('winback', 'winback-offer', wf, variant, holdout, name, w);
        }
        if (rnd() < (holdout ? 0.15 : 0.22)) {
          const amount = Math.round((20 + rnd() * 150) * 100) / 100;
          spend += amount;
          out('winback', 'winback-offer', wf, variant, holdout, 'last-chance', 'won_back', w + Math.floor(rnd() * 3 * DAY), { value: amount });
        } else {
          send('winback', 'winback-offer', wf, variant, holdout, 'churn-survey', w + 3 * DAY);
          const reason = pick(['price', 'quality', 'service', 'moved-to-competitor', 'no-answer', 'no-answer']);
          out('winback', 'winback-offer', wf, variant, holdout, 'churn-survey', 'churned', w + 10 * DAY, { reason });
        }
      }
      // One complaint for one customer in eight: first response, maybe an escalation, resolution, CSAT.
      if (rnd() < 0.125) {
        const wf = `complaint-${id}-T${customers}`;
        const opened = createdAt + Math.floor(rnd() * 300 * DAY);
        out('complaint', 'complaint-care', wf, 'control', false, 'start', 'entered', opened);
        send('complaint', 'complaint-care', wf, 'control', false, 'acknowledge', opened);
        const firstResponse = Math.floor(rnd() * rnd() * 30 * 3_600_000);
        out('complaint', 'complaint-care', wf, 'control', false, 'awaiting-first-response', 'first_response', opened + firstResponse, { value: firstResponse });
        if (firstResponse > 4 * 3_600_000) out('complaint', 'complaint-care', wf, 'control', false, 'awaiting-first-response', 'escalated', opened + 4 * 3_600_000, { reason: 'first-response-sla' });
        if (rnd() < 0.92) {
          const resolution = firstResponse + Math.floor(rnd() * 5 * DAY);
          out('complaint', 'complaint-care', wf, 'control', false, 'resolved', 'resolved', opened + resolution, { value: resolution });
          send('complaint', 'complaint-care', wf, 'control', false, 'csat-survey', opened + resolution);
          if (rnd() < 0.6) out('complaint', 'complaint-care', wf, 'control', false, 'resolved', 'csat', opened + resolution + DAY, { value: 1 + Math.floor(rnd() * 5) });
        }
      }
      insertCustomer.run(id, `Customer ${customers}`, `${id}@example.com`, tier, spend, createdAt, createdAt, createdAt);
    }
  });
  seedAll();
  for (const index of indexes) db.exec(index.sql);
  db.close();
  return { rows, customers, seedMs: Math.round(performance.now() - started) };
}

async function main(): Promise<void> {
  // BENCH_DB=<file> keeps the seeded database (and reuses it when it exists) for repeated runs.
  const kept = process.env.BENCH_DB;
  const dir = kept ? path.dirname(path.resolve(kept)) : await mkdtemp(path.join(os.tmpdir(), 'bench-report-'));
  const file = kept ? path.resolve(kept) : path.join(dir, 'report.sqlite');
  try {
    const reuse = kept !== undefined && existsSync(file);
    const migrating = await createStore(`sqlite:${file}`);
    await migrating.migrate();
    await migrating.close();
    const seeded = reuse ? await counted(file) : await seed(file);
    console.error(`seeded ${seeded.rows} outcome rows for ${seeded.customers} customers in ${seeded.seedMs} ms`);

    const store = await createStore(`sqlite:${file}`);
    try {
      const query = { from: new Date(YEAR_START), to: new Date(YEAR_END) };
      await computeReport(store, query); // warm the page cache once; the timed run below is the figure
      const timings: ReportTimings = {};
      const started = performance.now();
      const report = await computeReport(store, query, timings);
      const ms = Math.round(performance.now() - started);
      const filteredTimings: ReportTimings = {};
      const filteredStarted = performance.now();
      await computeReport(store, { ...query, campaignId: 'welcome', tier: 'gold' }, filteredTimings);
      const filteredMs = Math.round(performance.now() - filteredStarted);
      console.error(
        `campaigns: ${report.campaigns.map((c) => `${c.campaignId} lift ${c.lift.absoluteLift?.toFixed(4)} p=${c.lift.pValue?.toExponential(2)}`).join('; ')}`,
      );
      console.log(JSON.stringify({ rows: seeded.rows, customers: seeded.customers, seedMs: seeded.seedMs, ms, timings, filteredMs, filteredTimings }));
    } finally {
      await store.close();
    }
  } finally {
    if (!kept) await rm(dir, { recursive: true, force: true });
  }
}

async function counted(file: string): Promise<{ rows: number; customers: number; seedMs: number }> {
  const db = new SqliteDatabase(file, { readonly: true });
  const count = (table: string) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  const result = { rows: count('outcomes'), customers: count('customers'), seedMs: 0 };
  db.close();
  return result;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
