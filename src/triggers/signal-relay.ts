import { randomUUID } from 'node:crypto';
import type { PendingSignal as KeptSignal } from '../store';
import type { TriggerContext } from './context';
import { ConflictError, NotFoundError } from './errors';
import { deliverSignal, PendingSignalSchema } from './pending-signals';
import { SurveyClosedError } from './survey-delivery';
import { isTemporalUnavailable } from './temporal-unavailable';

export interface RelayOptions {
  /** This instance, as its claims name it. */
  owner?: string;
  /** Signals claimed per pass. */
  batch?: number;
  /** How long a claim holds: longer than a pass takes (each delivery is bounded by DELIVERY_TIMEOUT_MS). */
  leaseMs?: number;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface RelayPass {
  delivered: number;
  /** Given back for a later attempt (Temporal still did not answer, or the delivery failed). */
  retried: number;
}

/** Wait before attempt n+1: 5 s, doubling, at most 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** A refusal from the journey (or its absence) is an answer too: the signal is done, with the refusal as its result. */
function refusal(err: unknown): string | undefined {
  const final = err instanceof SurveyClosedError || err instanceof ConflictError || err instanceof NotFoundError;
  return final ? `refused: ${err.message}` : undefined;
}

/**
 * One pass over the outbox: claims the signals that are due and delivers them. Once Temporal does not answer, the
 * rest of the pass's signals are given back at once rather than each waiting out its own timeout.
 */
export async function relayPendingSignals(ctx: TriggerContext, options: RelayOptions = {}): Promise<RelayPass> {
  const owner = options.owner ?? `relay-${randomUUID()}`;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const claimed = await ctx.store.claimSignals(owner, { limit: options.batch ?? 20, leaseMs: options.leaseMs ?? 120_000 }, now());
  const pass: RelayPass = { delivered: 0, retried: 0 };
  let unavailable: string | undefined;
  const retry = async (kept: KeptSignal, error: string) => {
    await ctx.store.retrySignal(kept.id, owner, { at: new Date(now().getTime() + retryDelayMs(kept.attempts)), error }, now());
    pass.retried++;
  };
  for (const kept of claimed) {
    if (unavailable !== undefined) {
      await retry(kept, unavailable);
      continue;
    }
    const parsed = PendingSignalSchema.safeParse(kept.payload);
    if (!parsed.success) {
      log(`pending signal ${kept.key} cannot be read and is dropped: ${parsed.error.message}`);
      await ctx.store.completeSignal(kept.id, owner, 'refused: unreadable', now());
      continue;
    }
    try {
      const result = await deliverSignal(ctx, parsed.data);
      await ctx.store.completeSignal(kept.id, owner, result, now());
      pass.delivered++;
    } catch (err) {
      const refused = refusal(err);
      if (refused !== undefined) {
        await ctx.store.completeSignal(kept.id, owner, refused, now());
        pass.delivered++;
        continue;
      }
      const message = err instanceof Error ? err.message : String(err);
      if (isTemporalUnavailable(err)) unavailable = message;
      else log(`pending signal ${kept.key} failed (attempt ${kept.attempts}), retried later: ${message}`);
      await retry(kept, message);
    }
  }
  return pass;
}

export interface SignalRelay {
  /** Runs a pass now (after the one under way, if any). */
  drain(): Promise<RelayPass>;
  /** Stops the interval and waits for the pass under way. */
  stop(): Promise<void>;
}

/**
 * Delivers the outbox every `intervalMs` (with jitter, so instances started together do not claim in step) until
 * stopped. Every API instance runs one; claims keep them from delivering the same signal at once.
 */
export function startSignalRelay(ctx: TriggerContext, options: RelayOptions & { intervalMs?: number } = {}): SignalRelay {
  const relayOptions = { ...options, owner: options.owner ?? `relay-${randomUUID()}` };
  const intervalMs = options.intervalMs ?? 5_000;
  const log = options.log ?? (() => undefined);
  let running: Promise<RelayPass> = Promise.resolve({ delivered: 0, retried: 0 });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const drain = () => {
    running = running.then(
      () => relayPendingSignals(ctx, relayOptions),
      () => relayPendingSignals(ctx, relayOptions),
    );
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      drain()
        .catch((err: unknown) => log(`pending signals: the pass failed, trying again later: ${err instanceof Error ? err.message : String(err)}`))
        .finally(schedule);
    }, intervalMs * (0.5 + Math.random()));
    timer.unref();
  };
  schedule();
  return {
    drain,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
