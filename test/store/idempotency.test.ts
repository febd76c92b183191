import { IN_PROGRESS_LEASE_MS } from '../../src/triggers/http/idempotency';
import { backends, storeFixture, uid } from './backends';

const HOUR = 3_600_000;
const json = 'application/json; charset=utf-8';

describe.each(backends)('idempotency records and webhook replay claims on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  it('runs a key once: in progress until completed, then the stored answer; another request with it is a mismatch', async () => {
    const { store } = fixture;
    const key = uid('key');
    expect(await store.beginIdempotency('scope-a', key, 'hash-1', HOUR)).toEqual({ state: 'new' });
    expect(await store.beginIdempotency('scope-a', key, 'hash-1', HOUR)).toEqual({ state: 'in-progress' });
    expect(await store.beginIdempotency('scope-a', key, 'hash-2', HOUR)).toEqual({ state: 'mismatch' });

    await store.completeIdempotency('scope-a', key, { code: 202, body: '{"ok":true}', contentType: json }, 24 * HOUR);
    expect(await store.beginIdempotency('scope-a', key, 'hash-1', HOUR)).toEqual({ state: 'done', code: 202, body: '{"ok":true}', contentType: json });
    expect(await store.beginIdempotency('scope-a', key, 'hash-2', HOUR)).toEqual({ state: 'mismatch' });
    // The same key in another scope (another caller or route) is another record.
    expect(await store.beginIdempotency('scope-b', key, 'hash-2', HOUR)).toEqual({ state: 'new' });
  });

  it('forgets a key in progress (a failed request may run again) but never a completed one', async () => {
    const { store } = fixture;
    const key = uid('key');
    expect((await store.beginIdempotency('s', key, 'h', HOUR)).state).toBe('new');
    await store.forgetIdempotency('s', key);
    expect((await store.beginIdempotency('s', key, 'h', HOUR)).state).toBe('new');
    await store.completeIdempotency('s', key, { code: 201, body: 'created', contentType: 'text/plain' }, HOUR);
    await store.forgetIdempotency('s', key);
    expect((await store.beginIdempotency('s', key, 'h', HOUR)).state).toBe('done');
  });

  it('ignores expired records: an answer after its lifetime, a key in progress after its lease', async () => {
    const { store } = fixture;
    const t0 = new Date('2030-01-01T00:00:00Z');
    const later = (ms: number) => new Date(t0.getTime() + ms);
    const done = uid('key');
    expect((await store.beginIdempotency('s', done, 'h', HOUR, t0)).state).toBe('new');
    await store.completeIdempotency('s', done, { code: 200, body: '{}', contentType: json }, 24 * HOUR, t0);
    expect((await store.beginIdempotency('s', done, 'h', HOUR, later(23 * HOUR))).state).toBe('done');
    // Expired: even another request may use the key now.
    expect((await store.beginIdempotency('s', done, 'other', HOUR, later(24 * HOUR + 1))).state).toBe('new');

    const stuck = uid('key');
    expect((await store.beginIdempotency('s', stuck, 'h', HOUR, t0)).state).toBe('new');
    expect((await store.beginIdempotency('s', stuck, 'h', HOUR, later(HOUR - 1))).state).toBe('in-progress');
    expect((await store.beginIdempotency('s', stuck, 'h', HOUR, later(HOUR + 1))).state).toBe('new');
  });

  it('lets a client retry get through soon after the instance running its first attempt died', async () => {
    const key = uid('key');
    const started = new Date();
    expect(await fixture.store.beginIdempotency('POST /x token:t', key, 'h', IN_PROGRESS_LEASE_MS, started)).toEqual({ state: 'new' });
    // ... that instance is SIGKILLed: nobody completes or forgets the key. A retry within the lease waits (409) ...
    expect(await fixture.store.beginIdempotency('POST /x token:t', key, 'h', IN_PROGRESS_LEASE_MS, new Date(started.getTime() + 10_000))).toEqual({ state: 'in-progress' });
    // ... and one 31 s later runs: a client retrying for a minute is not refused until the key's 24 hours are over.
    const later = new Date(started.getTime() + 31_000);
    expect(await fixture.store.beginIdempotency('POST /x token:t', key, 'h', IN_PROGRESS_LEASE_MS, later)).toEqual({ state: 'new' });
  });

  it('gives a key to exactly one of 10 concurrent requests', async () => {
    const { store } = fixture;
    // Several rounds: the later ones run on a warm connection pool, so the requests truly overlap.
    for (let round = 0; round < 5; round++) {
      const key = uid('key');
      const results = await Promise.all(Array.from({ length: 10 }, () => store.beginIdempotency('race', key, 'h', HOUR)));
      expect(results.map((r) => r.state).sort()).toEqual([...Array<string>(9).fill('in-progress'), 'new']);
    }
  });

  it('claims a signature once until it expires; a released or expired claim can be taken again', async () => {
    const { store } = fixture;
    const signature = uid('sha256=');
    const now = new Date('2030-01-01T00:00:00Z');
    const until = new Date(now.getTime() + 300_000);
    expect(await store.claimSignature(signature, until, now)).toBe(true);
    expect(await store.claimSignature(signature, until, new Date(until.getTime()))).toBe(false);
    expect(await store.claimSignature(signature, new Date(until.getTime() + 300_000), new Date(until.getTime() + 1))).toBe(true);

    await store.releaseSignature(signature);
    expect(await store.claimSignature(signature, until, now)).toBe(true);
  });

  it('lets exactly one of 10 concurrent claims of a signature win', async () => {
    const { store } = fixture;
    for (let round = 0; round < 5; round++) {
      const signature = uid('sha256=');
      const until = new Date(Date.now() + 300_000);
      const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimSignature(signature, until)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    }
  });
});
