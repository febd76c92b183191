import type { Selectable } from 'kysely';
import { writeTransaction, type Connection } from './connect';
import type { PendingSignalsTable } from './schema';

/** A message for a journey that could not be delivered when it was sent (Temporal unreachable), kept until it is. */
export interface PendingSignalInput {
  /** What makes two messages the same one (a repeated click): one row per key, the first kept. */
  key: string;
  kind: string;
  /** JSON-serialisable; whoever delivers it validates it again. */
  payload: unknown;
}

export interface PendingSignal {
  id: number;
  key: string;
  kind: string;
  payload: unknown;
  status: 'pending' | 'done';
  /** How it ended (`done`): what the journey made of it. */
  result: string | null;
  /** Delivery attempts claimed so far. */
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
}

/** Done rows are kept this long for inspection, then deleted when a claim passes by. */
const KEEP_DONE_MS = 30 * 86_400_000;
const PURGE_EVERY_MS = 60_000;

function toSignal(row: Selectable<PendingSignalsTable>): PendingSignal {
  return {
    id: row.id,
    key: row.signal_key,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    result: row.result,
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: new Date(row.created_at),
  };
}

/**
 * The outbox of signals to journeys (migration 0007): written when a delivery fails, drained by every API instance.
 * A row is delivered by whoever claims it: a claim is a lease (claimed_by until claimed_until), taken in one
 * serialised transaction, so two instances never hold the same row; a holder that dies lets its lease lapse.
 */
export function pendingSignalQueries(connection: Connection) {
  const { db } = connection;
  let purgedAt = 0;

  return {
    /** Keeps a signal for later delivery, due at once; false when one with its key is there already. */
    async enqueueSignal(input: PendingSignalInput, now = new Date()): Promise<boolean> {
      const at = now.getTime();
      const row = await db
        .insertInto('pending_signals')
        .values({
          signal_key: input.key,
          kind: input.kind,
          payload: JSON.stringify(input.payload),
          status: 'pending',
          result: null,
          attempts: 0,
          next_attempt_at: at,
          claimed_by: null,
          claimed_until: null,
          last_error: null,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('signal_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Claims up to `limit` due signals, oldest due first, for `leaseMs`; each claim counts as an attempt. */
    async claimSignals(owner: string, options: { limit: number; leaseMs: number }, now = new Date()): Promise<PendingSignal[]> {
      const at = now.getTime();
      if (at - purgedAt >= PURGE_EVERY_MS) {
        purgedAt = at;
        await db.deleteFrom('pending_signals').where('status', '=', 'done').where('updated_at', '<', at - KEEP_DONE_MS).execute();
      }
      return writeTransaction(connection, 'pending-signals:claim', async (trx) => {
        const due = await trx
          .selectFrom('pending_signals')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', at)
          .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', at)]))
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(options.limit)
          .execute();
        if (due.length === 0) return [];
        const rows = await trx
          .updateTable('pending_signals')
          .set((eb) => ({ claimed_by: owner, claimed_until: at + options.leaseMs, attempts: eb('attempts', '+', 1), updated_at: at }))
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .returningAll()
          .execute();
        return rows.map(toSignal).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
      });
    },

    /** Marks a claimed signal delivered, with what came of it; false when `owner` no longer holds its claim. */
    async completeSignal(id: number, owner: string, result: string, now = new Date()): Promise<boolean> {
      const done = await db
        .updateTable('pending_signals')
        .set({ status: 'done', result, claimed_by: null, claimed_until: null, last_error: null, updated_at: now.getTime() })
        .where('id', '=', id)
        .where('claimed_by', '=', owner)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(done.numUpdatedRows) > 0;
    },

    /** Gives a claimed signal back, due again at `at`, noting why this attempt failed. */
    async retrySignal(id: number, owner: string, retry: { at: Date; error: string }, now = new Date()): Promise<boolean> {
      const updated = await db
        .updateTable('pending_signals')
        .set({ next_attempt_at: retry.at.getTime(), last_error: retry.error.slice(0, 1000), claimed_by: null, claimed_until: null, updated_at: now.getTime() })
        .where('id', '=', id)
        .where('claimed_by', '=', owner)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    },

    /** Signals by status (all without one), oldest first: for operators and tests. */
    async listSignals(filter: { status?: 'pending' | 'done'; kind?: string } = {}): Promise<PendingSignal[]> {
      let query = db.selectFrom('pending_signals').selectAll().orderBy('id');
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
      return (await query.execute()).map(toSignal);
    },
  };
}
