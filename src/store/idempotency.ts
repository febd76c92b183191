import { writeTransaction, type Connection } from './connect';

/** An answer kept for an Idempotency-Key, replayed to a retry of the same request. */
export interface StoredResponse {
  code: number;
  body: string;
  contentType: string;
}

/**
 * What `beginIdempotency` found: `new` (the caller now owns the key and must complete or forget it), `in-progress`
 * (another request with the key is running), `mismatch` (the key was used for another request), or `done` with
 * the answer to replay.
 */
export type IdempotencyBegin = { state: 'new' } | { state: 'in-progress' } | { state: 'mismatch' } | ({ state: 'done' } & StoredResponse);

/** Expired rows are ignored at once; deleting them is housekeeping, done at most this often per process. */
const PURGE_EVERY_MS = 60_000;

/** Idempotency-Key records of the HTTP API and claims on signed webhook requests, shared by every API instance. */
export function idempotencyQueries(connection: Connection) {
  const { db } = connection;
  let purgedAt = 0;
  const purgeExpired = async (at: number) => {
    if (Math.abs(at - purgedAt) < PURGE_EVERY_MS) return;
    purgedAt = at;
    await db.deleteFrom('idempotency_records').where('expires_at', '<=', at).execute();
    await db.deleteFrom('webhook_replays').where('expires_at', '<', at).execute();
  };

  return {
    /**
     * Takes `key` in `scope` for the request hashed as `requestHash`, as in-progress for `ttlMs` (after that a
     * retry may take it over: the instance that held it died). A live record is reported instead (see IdempotencyBegin).
     */
    async beginIdempotency(scope: string, key: string, requestHash: string, ttlMs: number, now = new Date()): Promise<IdempotencyBegin> {
      const at = now.getTime();
      await purgeExpired(at);
      return writeTransaction(connection, `idempotency:${scope}\n${key}`, async (trx): Promise<IdempotencyBegin> => {
        const row = await trx
          .selectFrom('idempotency_records')
          .selectAll()
          .where('scope', '=', scope)
          .where('key', '=', key)
          .executeTakeFirst();
        if (row && row.expires_at > at) {
          if (row.request_hash !== requestHash) return { state: 'mismatch' };
          if (row.status !== 'done' || row.response_code === null) return { state: 'in-progress' };
          return { state: 'done', code: row.response_code, body: row.response_body ?? '', contentType: row.response_type ?? 'application/json' };
        }
        const fresh = { request_hash: requestHash, status: 'in-progress' as const, response_code: null, response_body: null, response_type: null, created_at: at, expires_at: at + ttlMs };
        await trx
          .insertInto('idempotency_records')
          .values({ scope, key, ...fresh })
          .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet(fresh))
          .execute();
        return { state: 'new' };
      });
    },

    /** Keeps the answer of the request that began `key`, for `ttlMs`; a key no longer in progress is left as it is. */
    async completeIdempotency(scope: string, key: string, response: StoredResponse, ttlMs: number, now = new Date()): Promise<void> {
      await db
        .updateTable('idempotency_records')
        .set({
          status: 'done',
          response_code: response.code,
          response_body: response.body,
          response_type: response.contentType,
          expires_at: now.getTime() + ttlMs,
        })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('status', '=', 'in-progress')
        .execute();
    },

    /** Drops a key still in progress (its request failed on our side), so a retry runs again; a completed key stays. */
    async forgetIdempotency(scope: string, key: string): Promise<void> {
      await db
        .deleteFrom('idempotency_records')
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('status', '=', 'in-progress')
        .execute();
    },

    /**
     * Claims a signed request's signature until `expiresAt`: false when a live claim exists (a replay, also one
     * sent to another instance); an expired claim is taken over. One statement, so concurrent claims cannot both win.
     */
    async claimSignature(signature: string, expiresAt: Date, now = new Date()): Promise<boolean> {
      await purgeExpired(now.getTime());
      const claimed = await db
        .insertInto('webhook_replays')
        .values({ signature, expires_at: expiresAt.getTime() })
        .onConflict((oc) =>
          oc
            .column('signature')
            .doUpdateSet({ expires_at: expiresAt.getTime() })
            .where('webhook_replays.expires_at', '<', now.getTime()),
        )
        .returning('signature')
        .executeTakeFirst();
      return claimed !== undefined;
    },

    /** Gives a claimed signature back, so the same signed request may be retried (after a failure on our side). */
    async releaseSignature(signature: string): Promise<void> {
      await db.deleteFrom('webhook_replays').where('signature', '=', signature).execute();
    },
  };
}
