import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ZodError } from 'zod';
import { campaignFor } from '../campaigns/catalog';
import type { Stage } from '../shared/campaign-definition';
import { zodErrorLines } from '../shared/zod-errors';
import type { ConsentProvenance, CustomerInput } from '../store/types';
import type { TriggerContext } from './context';
import { upsertCustomerWithProvenance } from './customers';
import { ConflictError, InvalidInputError } from './errors';
import { startJourney } from './journeys';
import { readSegment, type SegmentRow } from './csv-segment';

export const DEFAULT_CONCURRENCY = 32;

export interface BulkStartOptions {
  stage: Stage;
  campaignId?: string;
  file: string;
  /** Where rejected rows go (line, customer id, reasons, the row as read); default `<file>.rejects.csv`. */
  rejectsFile?: string;
  /** Journeys being started at once; the file is read only as fast as slots free up. */
  concurrency?: number;
  /** Validate rows and check customers without writing or starting anything. */
  dryRun?: boolean;
  /** Aborting stops reading; starts already in flight finish and are counted. */
  signal?: AbortSignal;
  onProgress?: (progress: BulkProgress) => void;
}

export interface BulkProgress {
  /** Data rows finished (any outcome). */
  processed: number;
  started: number;
  /** A journey for the customer was already running: nothing new started. */
  alreadyRunning: number;
  /** The stage already ran for the customer and re-entry does not allow another run. */
  alreadyRan: number;
  /** Dry run: rows that would be started. */
  valid: number;
  rejected: number;
  /** Rows whose start failed for a reason other than their content (Temporal or database trouble); a re-run retries them. */
  failed: number;
}

export interface BulkStartSummary extends BulkProgress {
  file: string;
  rejectsFile: string;
  interrupted: boolean;
  dryRun: boolean;
  elapsedMs: number;
}

type RowOutcome =
  | { kind: 'started' | 'alreadyRunning' | 'alreadyRan' | 'valid' }
  | { kind: 'rejected' | 'failed'; reasons: string[] };

export function defaultRejectsFile(file: string): string {
  return `${file}.rejects.csv`;
}

/**
 * Starts a stage for every customer in a CSV segment: streamed, validated row by row, with bounded concurrency.
 * Safe to re-run: starts are idempotent on the workflow id, so customers already started count as already
 * running (or already ran) and nothing starts twice.
 */
export async function bulkStart(ctx: TriggerContext, options: BulkStartOptions): Promise<BulkStartSummary> {
  if (options.stage === 'complaint') {
    throw new InvalidInputError('bulk start', [{ path: 'stage', message: 'complaint journeys start per support ticket (openComplaint), not from a segment' }]);
  }
  campaignFor(ctx.catalog, options.stage, options.campaignId); // an unknown campaign is fatal, not a reject per row
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const rejectsFile = options.rejectsFile ?? defaultRejectsFile(options.file);
  const began = Date.now();
  const tally: BulkProgress = { processed: 0, started: 0, alreadyRunning: 0, alreadyRan: 0, valid: 0, rejected: 0, failed: 0 };
  // The rejects file always describes the latest run; it is written only when a row is rejected.
  await rm(rejectsFile, { force: true });
  const rejects = new RejectsWriter(rejectsFile);

  const finish = async (row: SegmentRow, outcome: RowOutcome) => {
    tally.processed++;
    tally[outcome.kind]++;
    if (outcome.kind === 'rejected' || outcome.kind === 'failed') {
      await rejects.write(row.line, row.customerId, outcome.reasons, row.raw);
    }
    options.onProgress?.({ ...tally });
  };

  const inFlight = new Set<Promise<void>>();
  let interrupted = false;
  try {
    for await (const row of readSegment(options.file)) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (row.kind === 'reject') {
        await finish(row, { kind: 'rejected', reasons: row.reasons });
        continue;
      }
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const task: Promise<void> = processRow(ctx, options, row)
        .then((outcome) => finish(row, outcome))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  } finally {
    await Promise.allSettled(inFlight);
    await rejects.close();
  }
  return { ...tally, file: options.file, rejectsFile, interrupted, dryRun: options.dryRun ?? false, elapsedMs: Date.now() - began };
}

/** Never throws: every row ends with an outcome. */
async function processRow(ctx: TriggerContext, options: BulkStartOptions, row: Extract<SegmentRow, { kind: 'row' }>): Promise<RowOutcome> {
  try {
    const known = await ensureCustomer(ctx, row, options.dryRun ?? false, { source: 'csv-segment', evidence: `${path.basename(options.file)} line ${row.line}` });
    if (!known.ok) return { kind: 'rejected', reasons: [known.reason] };
    if (options.dryRun) return { kind: 'valid' };
    const result = await startJourney(ctx.client, ctx.catalog, ctx.taskQueue, {
      stage: options.stage,
      customerId: row.customerId,
      campaignId: options.campaignId,
    });
    return { kind: result.started ? 'started' : 'alreadyRunning' };
  } catch (err) {
    if (err instanceof ConflictError) return { kind: 'alreadyRan' };
    if (err instanceof InvalidInputError) return { kind: 'rejected', reasons: err.issues.map((i) => `${i.path}: ${i.message}`) };
    if (err instanceof ZodError) return { kind: 'rejected', reasons: zodErrorLines(err) };
    return { kind: 'failed', reasons: [`start failed: ${err instanceof Error ? err.message : String(err)}`] };
  }
}

/**
 * Upserts the row's profile (a profile without a name may only update a known customer), keeping the consent changes
 * it makes with `provenance`, or checks the customer exists.
 */
async function ensureCustomer(
  ctx: TriggerContext,
  row: Extract<SegmentRow, { kind: 'row' }>,
  dryRun: boolean,
  provenance: ConsentProvenance,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const profile = row.profile;
  const existing = await ctx.store.getCustomer(row.customerId);
  if (profile?.name !== undefined) {
    if (!dryRun) await upsertCustomerWithProvenance(ctx, profile as CustomerInput, existing, provenance);
    return { ok: true };
  }
  if (!existing) {
    return {
      ok: false,
      reason: profile
        ? `name: required to add the new customer ${JSON.stringify(row.customerId)}`
        : `customer_id: unknown customer ${JSON.stringify(row.customerId)} (add profile columns such as name and email to create it)`,
    };
  }
  if (profile && !dryRun) await upsertCustomerWithProvenance(ctx, { ...profile, name: existing.name }, existing, provenance);
  return { ok: true };
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Appends rejected rows to a CSV file, opened on the first reject, respecting the stream's back-pressure. */
class RejectsWriter {
  private stream: WriteStream | undefined;
  constructor(private readonly file: string) {}

  async write(line: number, customerId: string | undefined, reasons: string[], raw: string | undefined): Promise<void> {
    if (!this.stream) {
      this.stream = createWriteStream(this.file);
      this.stream.write('line,customer_id,reasons,raw\n');
    }
    const text = [String(line), customerId ?? '', reasons.join('; '), (raw ?? '').replace(/\r?\n$/, '')].map(csvCell).join(',');
    if (!this.stream.write(`${text}\n`)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
  }
}
