import type { Connection } from './connect';
import type { Channel } from './types';

/** Email addresses compare case-insensitively; phone numbers are E.164 already. */
export function normalizeAddress(channel: Channel, address: string): string {
  const trimmed = address.trim();
  return channel === 'email' ? trimmed.toLowerCase() : trimmed;
}

export function suppressionQueries({ db }: Connection) {
  return {
    /** Never message this address on this channel again. The first recorded reason is kept. */
    async suppress(channel: Channel, address: string, reason: string): Promise<void> {
      await db
        .insertInto('suppressions')
        .values({ channel, address: normalizeAddress(channel, address), reason, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
        .execute();
    },

    /** Lifts a suppression recorded for one of `reasons` (a START after STOP); other reasons (bounces) stay. */
    async unsuppress(channel: Channel, address: string, reasons: string[]): Promise<boolean> {
      if (reasons.length === 0) return false;
      const result = await db
        .deleteFrom('suppressions')
        .where('channel', '=', channel)
        .where('address', '=', normalizeAddress(channel, address))
        .where('reason', 'in', reasons)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async isSuppressed(channel: Channel, address: string): Promise<boolean> {
      const row = await db
        .selectFrom('suppressions')
        .select('reason')
        .where('channel', '=', channel)
        .where('address', '=', normalizeAddress(channel, address))
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
