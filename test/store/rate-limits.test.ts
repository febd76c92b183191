import { createStore } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

const MINUTE = 60_000;

describe.each(backends)('rate limit counters on %s', (_dialect, open) => {
  const fixture = storeFixture(open);
  // A window boundary (a multiple of every window below): the tests place requests relative to it.
  const start = new Date('2030-01-01T00:00:00Z');
  const at = (ms: number) => new Date(start.getTime() + ms);

  it('counts hits per limiter, key and fixed window; a peek counts nothing', async () => {
    const { store } = fixture;
    const key = uid('203.0.113.7');
    expect(await store.peekRateLimit('links', key, MINUTE, at(0))).toEqual({ hits: 0, resetsAt: at(MINUTE).getTime() });
    expect(await store.hitRateLimit('links', key, MINUTE, at(0))).toEqual({ hits: 1, resetsAt: at(MINUTE).getTime() });
    expect(await store.hitRateLimit('links', key, MINUTE, at(30_000))).toEqual({ hits: 2, resetsAt: at(MINUTE).getTime() });
    expect(await store.peekRateLimit('links', key, MINUTE, at(59_999))).toEqual({ hits: 2, resetsAt: at(MINUTE).getTime() });
    expect(await store.peekRateLimit('links', key, MINUTE, at(59_999))).toEqual({ hits: 2, resetsAt: at(MINUTE).getTime() });

    // Another limiter, another key: counted apart.
    expect((await store.hitRateLimit('failed-auth', key, MINUTE, at(1))).hits).toBe(1);
    expect((await store.hitRateLimit('links', uid('198.51.100.1'), MINUTE, at(1))).hits).toBe(1);
    // The next window starts from nothing.
    expect(await store.peekRateLimit('links', key, MINUTE, at(MINUTE))).toEqual({ hits: 0, resetsAt: at(2 * MINUTE).getTime() });
    expect(await store.hitRateLimit('links', key, MINUTE, at(MINUTE))).toEqual({ hits: 1, resetsAt: at(2 * MINUTE).getTime() });
  });

  it('loses no hit when two instances count the same key concurrently', async () => {
    const { store, url } = fixture;
    const other = await createStore(url);
    try {
      const key = uid('192.0.2.1');
      const now = at(5_000);
      const hits = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? store : other).hitRateLimit('links', key, MINUTE, now)));
      // Each hit saw its own count: 1..60, none twice.
      expect(hits.map((h) => h.hits).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect((await other.peekRateLimit('links', key, MINUTE, now)).hits).toBe(60);
    } finally {
      await other.close();
    }
  });

  it('deletes ended windows, so the table does not grow forever', async () => {
    const { store } = fixture;
    const rows = async () =>
      (await store.kysely.selectFrom('rate_limits').select((eb) => eb.fn.countAll<number>().as('n')).where('window_start', '<', at(2 * 60 * MINUTE).getTime()).executeTakeFirstOrThrow()).n;
    const base = 60 * MINUTE;
    for (let i = 0; i < 5; i++) await store.hitRateLimit('links', uid('old'), MINUTE, at(base));
    expect(Number(await rows())).toBeGreaterThanOrEqual(5);
    // Long after those windows ended (and past the purge interval): the next hit clears them.
    await store.hitRateLimit('links', uid('new'), MINUTE, at(3 * 60 * MINUTE));
    expect(Number(await rows())).toBe(0);
  });
});
