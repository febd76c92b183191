import type { Selectable } from 'kysely';
import { writeTransaction, type Connection } from './connect';
import type { SendLedgerTable } from './schema';
import { StoreNotFoundError, type Channel, type FrequencyRequest, type LedgerEntry, type LedgerStatus } from './types';

function toEntry(row: Selectable<SendLedgerTable>): LedgerEntry {
  return {
    workflowId: row.workflow_id,
    stepId: row.step_id,
    customerId: row.customer_id,
    channel: row.channel as Channel,
    status: row.status as LedgerStatus,
    providerMessageId: row.provider_message_id,
    reason: row.reason,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export interface SendClaim {
  workflowId: string;
  stepId: string;
  customerId: string;
  channel: Channel;
}

export interface SendCompletion {
  status: Exclude<LedgerStatus, 'pending'>;
  providerMessageId?: string | null;
  reason?: string | null;
}

export function ledgerQueries(connection: Connection) {
  const { db } = connection;
  return {
    /**
     * Exactly-once sends. `created: true`: this attempt owns the send. `created: false`: an earlier attempt of
     * the same (workflow, step) got here first; its entry says what happened: 'sent' (do not send again, reuse
     * its providerMessageId) or 'pending' (it crashed mid-send: resend with the same deterministic Message-ID).
     */
    async claimSend(claim: SendClaim): Promise<{ entry: LedgerEntry; created: boolean }> {
      const now = Date.now();
      const inserted = await db
        .insertInto('send_ledger')
        .values({
          workflow_id: claim.workflowId,
          step_id: claim.stepId,
          customer_id: claim.customerId,
          channel: claim.channel,
          status: 'pending',
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['workflow_id', 'step_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { entry: toEntry(inserted), created: true };
      const existing = await db
        .selectFrom('send_ledger')
        .selectAll()
        .where('workflow_id', '=', claim.workflowId)
        .where('step_id', '=', claim.stepId)
        .executeTakeFirstOrThrow();
      return { entry: toEntry(existing), created: false };
    },

    /** Records how a claimed send ended. A 'sent' entry is final: later completions leave it as it is. */
    async completeSend(workflowId: string, stepId: string, completion: SendCompletion): Promise<LedgerEntry> {
      await db
        .updateTable('send_ledger')
        .set({
          status: completion.status,
          provider_message_id: completion.providerMessageId ?? null,
          reason: completion.reason ?? null,
          updated_at: Date.now(),
        })
        .where('workflow_id', '=', workflowId)
        .where('step_id', '=', stepId)
        .where('status', '!=', 'sent')
        .execute();
      const row = await db
        .selectFrom('send_ledger')
        .selectAll()
        .where('workflow_id', '=', workflowId)
        .where('step_id', '=', stepId)
        .executeTakeFirst();
      if (!row) throw new StoreNotFoundError(`no send claimed for workflow ${workflowId} step ${stepId}`);
      return toEntry(row);
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
  };
}
