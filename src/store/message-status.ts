import { writeTransaction, type Connection } from './connect';
import { MESSAGE_STATUS_RANK, isMessageStatus, type Channel, type MessageStatus } from './types';

export function messageStatusQueries(connection: Connection) {
  return {
    /**
     * Applies a provider status callback. Status only moves forward (queued < sending < sent < delivered ...),
     * because callbacks arrive out of order and are retried: a late 'sent' after 'delivered' and a repeated
     * event both leave the status as it is and return `changed: false`.
     */
    async recordMessageStatus(
      providerMessageId: string,
      channel: Channel,
      status: MessageStatus,
      at: Date,
    ): Promise<{ changed: boolean; status: MessageStatus }> {
      if (!isMessageStatus(status)) throw new RangeError(`unknown message status ${JSON.stringify(status)}`);
      const rank = MESSAGE_STATUS_RANK[status];
      const now = Date.now();
      return writeTransaction(connection, `message:${providerMessageId}`, async (trx) => {
        const current = async () => {
          const row = await trx
            .selectFrom('message_status')
            .select('status')
            .where('provider_message_id', '=', providerMessageId)
            .executeTakeFirstOrThrow();
          return { changed: false, status: row.status as MessageStatus };
        };
        const event = await trx
          .insertInto('message_status_events')
          .values({ provider_message_id: providerMessageId, status, occurred_at: at.getTime(), received_at: now })
          .onConflict((oc) => oc.columns(['provider_message_id', 'status']).doNothing())
          .returning('status')
          .executeTakeFirst();
        if (!event) return current();
        const moved = await trx
          .insertInto('message_status')
          .values({ provider_message_id: providerMessageId, channel, status, status_rank: rank, updated_at: at.getTime() })
          .onConflict((oc) =>
            oc
              .column('provider_message_id')
              .doUpdateSet({ status, status_rank: rank, updated_at: at.getTime() })
              .where('message_status.status_rank', '<', rank),
          )
          .returning('status')
          .executeTakeFirst();
        return moved ? { changed: true, status } : current();
      });
    },

    async getMessageStatus(providerMessageId: string): Promise<MessageStatus | undefined> {
      const row = await connection.db
        .selectFrom('message_status')
        .select('status')
        .where('provider_message_id', '=', providerMessageId)
        .executeTakeFirst();
      return row?.status as MessageStatus | undefined;
    },
  };
}
