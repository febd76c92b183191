import { sql } from 'kysely';
import type { Connection } from './connect';

/** One fixed window of a rate limit: the requests counted in it so far and when it ends (epoch ms). */
export interface RateLimitWindow {
  hits: number;
  resetsAt: number;
}

/** Ended windows are never read again; deleting them is housekeeping, done at most this often per process. */
const PURGE_EVERY_MS = 60_000;

/**
 * Fixed-window counters of the HTTP API's rate limits, per limiter and client key, shared by every API instance
 * (the API runs as several behind a load balancer: a count in one process's memory would be per instance).
 */
export function rateLimitQueries({ db }: Connection) {
  let purgedAt = 0;
  const purgeEnded = async (at: number) => {
    if (Math.abs(at - purgedAt) < PURGE_EVERY_MS) return;
    purgedAt = at;
    await db.deleteFrom('rate_limits').where('expires_at', '<=', at).execute();
  };
  const windowOf = (windowMs: number, now: Date) => {
    const start = Math.floor(now.getTime() / windowMs) * windowMs;
    return { start, end: start + windowMs };
  };

  return {
    /**
     * Counts one request of `key` against `limiter` in the `windowMs` window holding `now`; returns the window's
     * count including it. One upsert: concurrent hits from several instances are each counted once.
     */
    async hitRateLimit(limiter: string, key: string, windowMs: number, now = new Date()): Promise<RateLimitWindow> {
      await purgeEnded(now.getTime());
      const window = windowOf(windowMs, now);
      const row = await db
        .insertInto('rate_limits')
        .values({ limiter, client_key: key, window_start: window.start, hits: 1, expires_at: window.end })
        .onConflict((oc) => oc.columns(['limiter', 'client_key', 'window_start']).doUpdateSet({ hits: sql<number>`rate_limits.hits + 1` }))
        .returning('hits')
        .executeTakeFirstOrThrow();
      return { hits: Number(row.hits), resetsAt: window.end };
    },

    /** The count of `key` against `limiter` in the window holding `now`, without counting anything. */
    async peekRateLimit(limiter: string, key: string, windowMs: number, now = new Date()): Promise<RateLimitWindow> {
      const window = windowOf(windowMs, now);
      const row = await db
        .selectFrom('rate_limits')
        .select('hits')
        .where('limiter', '=', limiter)
        .where('client_key', '=', key)
        .where('window_start', '=', window.start)
        .executeTakeFirst();
      return { hits: Number(row?.hits ?? 0), resetsAt: window.end };
    },
  };
}
