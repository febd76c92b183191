import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';

/** A customer past the win-back threshold, as the sweep pages through them (in id order). */
export interface LapsedCustomer {
  id: string;
  lastActivityAt: number;
}

export interface LapsedPage {
  customers: LapsedCustomer[];
  /** The cursor for the next page; absent when this page was the last one. */
  nextAfterId?: string;
}

/** What happened to one page of lapsed customers. */
export interface WinbackStartCounts {
  started: number;
  /** A win-back journey is running for the customer: nothing to do (not an error). */
  alreadyRunning: number;
  /** A win-back already ran since the customer's last activity, or the campaign's re-entry rule refuses another run. */
  alreadyRan: number;
  failed: number;
  /** The first few failures, for the summary (the counts stay exact). */
  failures: { customerId: string; error: string }[];
}

/** The activities the win-back sweep calls; implemented in src/activities/sweep.ts. */
export interface SweepActivities {
  /** `inactiveDays` of the default win-back campaign the worker runs with. */
  winbackInactiveDays(): Promise<number>;
  /** One page of customers inactive since before `before` (epoch ms), after the id `afterId`. */
  listLapsedCustomers(input: { before: number; afterId?: string; limit: number }): Promise<LapsedPage>;
  /** Starts win-back for each customer not already in it, `concurrency` at a time. */
  startWinbacks(input: { customers: LapsedCustomer[]; concurrency?: number }): Promise<WinbackStartCounts>;
}

/**
 * What a sweep may be started with (schedule action args, CLI, tests); validated by the workflow. Built on first use:
 * workflow modules are evaluated once per cached workflow (see campaignSchemas).
 */
function buildSweepOptionsSchema() {
  return z.object({
    /** Customers inactive for longer than this are lapsed; default: the win-back campaign's `inactiveDays`. */
    inactiveDays: z.number().int().min(1).optional(),
    /** Customers per page (one listLapsedCustomers + one startWinbacks activity each). */
    pageSize: z.number().int().min(1).max(1000).default(200),
    /** Pages per workflow run before continuing as new (keeps history bounded). */
    pagesPerRun: z.number().int().min(1).max(500).default(50),
    /** Win-back starts in flight at once within a page. */
    concurrency: z.number().int().min(1).max(100).default(8),
  });
}

let sweepOptionsSchema: ReturnType<typeof buildSweepOptionsSchema> | undefined;

export function winbackSweepOptionsSchema(): ReturnType<typeof buildSweepOptionsSchema> {
  sweepOptionsSchema ??= buildSweepOptionsSchema();
  return sweepOptionsSchema;
}

export type WinbackSweepOptions = z.input<ReturnType<typeof buildSweepOptionsSchema>>;

export interface WinbackSweepInput extends WinbackSweepOptions {
  /** Set by the sweep itself when it continues as new. */
  carried?: SweepProgress;
}

export interface SweepProgress {
  inactiveDays: number;
  /** Epoch ms: customers whose last activity is before this are lapsed (fixed for the whole sweep). */
  cutoff: number;
  /** Epoch ms of the sweep's start (workflow time: the schedule's trigger time). */
  startedAt: number;
  /** The last customer id handled; the next page starts after it. */
  afterId?: string;
  pages: number;
  customersSeen: number;
  started: number;
  alreadyRunning: number;
  alreadyRan: number;
  failed: number;
  failures: WinbackStartCounts['failures'];
  /** How many times the sweep continued as new. */
  continuedAsNew: number;
  done: boolean;
}

export const sweepProgressQuery = defineQuery<SweepProgress>('sweepProgress');

export const WINBACK_SWEEP_WORKFLOW = 'winbackSweepWorkflow';
/** How many failures a summary keeps by name. */
export const MAX_REPORTED_FAILURES = 20;
