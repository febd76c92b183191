import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RateLimitWindow, Store } from '../../store';

type Done = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The limiter a store counts for: the `limiter` option given to `createRateLimit` (see rate-limits.ts). */
function limiterOf(options: unknown): string {
  const limiter = typeof options === 'object' && options !== null && 'limiter' in options ? options.limiter : undefined;
  return typeof limiter === 'string' && limiter !== '' ? limiter : 'default';
}

/**
 * A store for @fastify/rate-limit (its `store` option) that counts in the project's store, so every API instance
 * behind the load balancer counts against the same fixed windows. `incr` counts a request, `read` only looks
 * (the plugin's `{ increment: false }`); each limiter is a `child` with its own `limiter` name.
 */
export function sharedRateLimitStore(store: Pick<Store, 'hitRateLimit' | 'peekRateLimit'>, now: () => Date): FastifyRateLimitStoreCtor {
  const answer = (counting: Promise<RateLimitWindow>, at: Date, done: Done) => {
    counting.then(
      (window) => done(null, { current: window.hits, ttl: window.resetsAt - at.getTime() }),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
  return class SharedRateLimitStore implements FastifyRateLimitStore {
    private readonly limiter: string;

    constructor(options: unknown) {
      this.limiter = limiterOf(options);
    }

    incr(key: string, done: Done, timeWindow: number): void {
      const at = now();
      answer(store.hitRateLimit(this.limiter, key, timeWindow, at), at, done);
    }

    read(key: string, done: Done, timeWindow: number): void {
      const at = now();
      answer(store.peekRateLimit(this.limiter, key, timeWindow, at), at, done);
    }

    child(options: unknown): FastifyRateLimitStore {
      return new SharedRateLimitStore(options);
    }
  };
}
