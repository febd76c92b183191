import type { Selectable } from 'kysely';
import { writeTransaction, type Connection } from './connect';
import type { SendLedgerTable } from './schema';
import { StoreNotFoundError, type Channel, type FrequencyRequest, type LedgerEntry, type LedgerStatus, type SendKey } from './types';

function toEntry(row: Selectable<SendLedgerTable>): LedgerEntry {
  return {
    workflowId: row.workflow_id,
    runId: row.run_id,
    stepId: row.step_id,
    customerId: row.customer_id,
    requestedChannel: row.requested_channel as Channel,
    channel: row.channel as Channel,
    status: row.status as LedgerStatus,
    providerMessageId: row.provider_message_id,
    reason: row.reason,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
    transportStartedAt: row.transport_started_at === null ? null : new Date(row.transport_started_at),
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export interface SendClaim extends SendKey {
  customerId: string;
  channel: Channel;
  /** Identifies the attempt asking (one per activity attempt). */
  owner: string;
  /** How long the lease holds without being renewed. */
  leaseMs: number;
  now?: Date;
}

/**
 * What a claim found:
 * - `owned`: this attempt holds the lease and may go on towards sending. `inDoubt`: an earlier attempt's lease
 *   lapsed after it had called the transport, so the message may already be out (the caller applies its policy);
 * - `busy`: another attempt holds a live lease (it may be sending right now): do not send, try again after `until`;
 * - `final`: the send ended (sent, skipped, bounced, failed, in-doubt); its entry says how.
 */
export type SendClaimResult =
  | { kind: 'owned'; entry: LedgerEntry; inDoubt: boolean }
  | { kind: 'busy'; entry: LedgerEntry; until: Date }
  | { kind: 'final'; entry: LedgerEntry };

export interface SendCompletion {
  status: Exclude<LedgerStatus, 'pending'>;
  channel?: Channel;
  providerMessageId?: string | null;
  reason?: string | null;
}

const lockKey = (key: SendKey) => `send:${key.workflowId}:${key.runId}:${key.stepId}`;

export function ledgerQueries(connection: Connection) {
  const { db } = connection;
  const byKey = (key: SendKey) =>
    db.selectFrom('send_ledger').selectAll().where('workflow_id', '=', key.workflowId).where('run_id', '=', key.runId).where('step_id', '=', key.stepId);

  return {
    /**
     * Exactly-once sends: a claim is a lease. Only the lease holder may call the transport, and only while the
     * lease holds (see beginTransport); a lapsed lease passes to the next attempt, which learns whether its
     * predecessor had reached the transport (in doubt) or not (safe to send).
     */
    async claimSend(claim: SendClaim): Promise<SendClaimResult> {
      const now = (claim.now ?? new Date()).getTime();
      return writeTransaction(connection, lockKey(claim), async (trx) => {
        const row = await trx
          .selectFrom('send_ledger')
          .selectAll()
          .where('workflow_id', '=', claim.workflowId)
          .where('run_id', '=', claim.runId)
          .where('step_id', '=', claim.stepId)
          .executeTakeFirst();
        if (!row) {
          const inserted = await trx
            .insertInto('send_ledger')
            .values({
              workflow_id: claim.workflowId,
              run_id: claim.runId,
              step_id: claim.stepId,
              customer_id: claim.customerId,
              requested_channel: claim.channel,
              channel: claim.channel,
              status: 'pending',
              lease_owner: claim.owner,
              lease_until: now + claim.leaseMs,
              attempts: 1,
              created_at: now,
              updated_at: now,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          return { kind: 'owned', entry: toEntry(inserted), inDoubt: false };
        }
        if (row.status !== 'pending') return { kind: 'final', entry: toEntry(row) };
        const held = row.lease_owner !== null && row.lease_owner !== claim.owner && row.lease_until !== null && row.lease_until > now;
        if (held) return { kind: 'busy', entry: toEntry(row), until: new Date(row.lease_until as number) };
        const taken = await trx
          .updateTable('send_ledger')
          .set((eb) => ({
            lease_owner: claim.owner,
            lease_until: now + claim.leaseMs,
            attempts: row.lease_owner === claim.owner ? eb.ref('attempts') : eb('attempts', '+', 1),
            updated_at: now,
          }))
          .where('workflow_id', '=', claim.workflowId)
          .where('run_id', '=', claim.runId)
          .where('step_id', '=', claim.stepId)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { kind: 'owned', entry: toEntry(taken), inDoubt: row.transport_started_at !== null };
      });
    },

    /**
     * The last check before the transport: true when `owner` still holds a live lease, which is then extended to
     * `until` and marked as having reached the transport. False: the lease was lost, do not send.
     */
    async beginTransport(key: SendKey, owner: string, until: Date, channel: Channel, now: Date = new Date()): Promise<boolean> {
      const result = await byKeyUpdate(connection, key)
        .set({ lease_until: until.getTime(), transport_started_at: now.getTime(), channel, updated_at: now.getTime() })
        .where('status', '=', 'pending')
        .where('lease_owner', '=', owner)
        .where('lease_until', '>', now.getTime())
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Keeps a live lease of `owner` for longer (while its transport call runs); false when it was lost. */
    async renewSend(key: SendKey, owner: string, until: Date, now: Date = new Date()): Promise<boolean> {
      const result = await byKeyUpdate(connection, key)
        .set({ lease_until: until.getTime(), updated_at: now.getTime() })
        .where('status', '=', 'pending')
        .where('lease_owner', '=', owner)
        .where('lease_until', '>', now.getTime())
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Gives the lease back without an ending (a deferral, or a transport that certainly did not take the message:
     * `transportDone` clears the in-doubt mark): the next attempt may claim at once.
     */
    async releaseSend(key: SendKey, owner: string, options: { transportDone?: boolean } = {}): Promise<void> {
      await byKeyUpdate(connection, key)
        .set({ lease_owner: null, lease_until: null, ...(options.transportDone && { transport_started_at: null }), updated_at: Date.now() })
        .where('status', '=', 'pending')
        .where('lease_owner', '=', owner)
        .execute();
    },

    /** Records how a claimed send ended. An ended entry is final: later completions leave it as it is. */
    async completeSend(key: SendKey, completion: SendCompletion): Promise<LedgerEntry> {
      await byKeyUpdate(connection, key)
        .set({
          status: completion.status,
          ...(completion.channel && { channel: completion.channel }),
          provider_message_id: completion.providerMessageId ?? null,
          reason: completion.reason ?? null,
          lease_owner: null,
          lease_until: null,
          updated_at: Date.now(),
        })
        .where('status', '=', 'pending')
        .execute();
      const row = await byKey(key).executeTakeFirst();
      if (!row) throw new StoreNotFoundError(`no send claimed for workflow ${key.workflowId} run ${key.runId} step ${key.stepId}`);
      return toEntry(row);
    },

    async getSend(key: SendKey): Promise<LedgerEntry | undefined> {
      const row = await byKey(key).executeTakeFirst();
      return row && toEntry(row);
    },

    /**
     * Takes one of `max` slots in the rolling window ending at `now` for this customer and channel, or returns
     * false when they are all taken. Decided under a write lock, so concurrent callers cannot overbook.
     * A key that already holds a slot returns true without taking another. Refusals are not stored: asking
     * again with the same key later (after a deferral) is decided afresh.
     */
    async reserveFrequencySlot(request: FrequencyRequest): Promise<boolean> {
      const now = request.now.getTime();
      return writeTransaction(connection, `frequency:${request.customerId}:${request.channel}`, async (trx) => {
        const held = await trx
          .selectFrom('frequency_reservations')
          .select('key')
          .where('customer_id', '=', request.customerId)
          .where('channel', '=', request.channel)
          .where('key', '=', request.key)
          .executeTakeFirst();
        if (held) return true;
        const { count } = await trx
          .selectFrom('frequency_reservations')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('customer_id', '=', request.customerId)
          .where('channel', '=', request.channel)
          .where('reserved_at', '>', now - request.windowMs)
          .executeTakeFirstOrThrow();
        if (Number(count) >= request.max) return false;
        await trx
          .insertInto('frequency_reservations')
          .values({ key: request.key, customer_id: request.customerId, channel: request.channel, reserved_at: now })
          .execute();
        return true;
      });
    },

    /**
     * When the window ending at `request.now` next has a slot free for this customer and channel: the moment enough of
     * the oldest reservations in it have aged out. `request.now` itself when a slot is free already.
     */
    async frequencySlotFreesAt(request: Omit<FrequencyRequest, 'key'>): Promise<number> {
      const now = request.now.getTime();
      const held = await db
        .selectFrom('frequency_reservations')
        .select('reserved_at')
        .where('customer_id', '=', request.customerId)
        .where('channel', '=', request.channel)
        .where('reserved_at', '>', now - request.windowMs)
        .orderBy('reserved_at', 'asc')
        .execute();
      const lastToAgeOut = held[held.length - request.max];
      // bigint columns arrive from PostgreSQL as strings.
      return lastToAgeOut ? Number(lastToAgeOut.reserved_at) + request.windowMs : now;
    },

    /** Gives a slot back: the message it was taken for did not go out (skipped, failed, bounced). */
    async releaseFrequencySlot(customerId: string, channel: Channel, key: string): Promise<void> {
      await db
        .deleteFrom('frequency_reservations')
        .where('customer_id', '=', customerId)
        .where('channel', '=', channel)
        .where('key', '=', key)
        .execute();
    },
  };
}

function byKeyUpdate(connection: Connection, key: SendKey) {
  return connection.db
    .updateTable('send_ledger')
    .where('workflow_id', '=', key.workflowId)
    .where('run_id', '=', key.runId)
    .where('step_id', '=', key.stepId);
}
