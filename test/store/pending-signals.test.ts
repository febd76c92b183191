import type { Store } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

const LEASE = { limit: 50, leaseMs: 60_000 };

describe.each(backends)('pending signals (outbox) on %s', (_dialect, open) => {
  const fixture = storeFixture(open);
  // The tests share a database: each works at an instant of its own, an hour after the last, and first settles
  // whatever earlier tests left due (their claims have lapsed by then).
  let clock = Date.UTC(2030, 0, 1);
  const nextInstant = async () => {
    const at = new Date((clock += 3_600_000));
    for (const left of await fixture.store.claimSignals('sweeper', { limit: 1000, leaseMs: 1 }, at)) {
      await fixture.store.completeSignal(left.id, 'sweeper', 'swept', at);
    }
    return at;
  };

  async function enqueue(store: Store, count: number, at: Date): Promise<string[]> {
    const keys = Array.from({ length: count }, () => uid('signal'));
    for (const key of keys) expect(await store.enqueueSignal({ key, kind: 'test', payload: { key, n: 1 } }, at)).toBe(true);
    return keys;
  }

  it('keeps one row per key: a repeated click adds nothing', async () => {
    const { store } = fixture;
    const at = await nextInstant();
    const key = uid('signal');
    expect(await store.enqueueSignal({ key, kind: 'test', payload: { first: true } }, at)).toBe(true);
    expect(await store.enqueueSignal({ key, kind: 'test', payload: { first: false } }, at)).toBe(false);
    const rows = (await store.listSignals()).filter((s) => s.key === key);
    expect(rows).toEqual([expect.objectContaining({ status: 'pending', attempts: 0, payload: { first: true } })]);
  });

  it('hands each due signal to one claimer only, also when several instances claim at once', async () => {
    const { store } = fixture;
    const at = await nextInstant();
    const keys = await enqueue(store, 12, at);
    // On PostgreSQL these run on as many pooled connections at once.
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.claimSignals(`owner-${i}`, { limit: 3, leaseMs: 60_000 }, new Date(at.getTime() + 1))),
    );
    const claimed = claims.flat().map((s) => s.key);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual([...keys].sort());
    expect(claims.flat().every((s) => s.attempts === 1)).toBe(true);
    // Claimed and not given back: nobody else gets them while the claims hold.
    expect(await store.claimSignals('late', LEASE, new Date(at.getTime() + 2))).toEqual([]);
  });

  it("takes over a claim that lapsed (its holder died); the dead holder can no longer complete it", async () => {
    const { store } = fixture;
    const at = await nextInstant();
    const [key] = await enqueue(store, 1, at);
    const [first] = await store.claimSignals('dies', { limit: 1, leaseMs: 1_000 }, at);
    expect(first?.key).toBe(key);
    expect(await store.claimSignals('other', LEASE, new Date(at.getTime() + 999))).toEqual([]);
    const [again] = await store.claimSignals('other', LEASE, new Date(at.getTime() + 1_000));
    expect(again).toMatchObject({ key, attempts: 2 });
    expect(await store.completeSignal(first!.id, 'dies', 'late', new Date(at.getTime() + 1_001))).toBe(false);
    expect(await store.completeSignal(again!.id, 'other', 'delivered to winback-1', new Date(at.getTime() + 1_002))).toBe(true);
    const [done] = (await store.listSignals({ status: 'done' })).filter((s) => s.key === key);
    expect(done).toMatchObject({ status: 'done', result: 'delivered to winback-1', attempts: 2 });
    // Done is done: never claimed again.
    expect((await store.claimSignals('other', LEASE, new Date(at.getTime() + 10 * 60_000))).map((s) => s.key)).not.toContain(key);
  });

  it('gives a failed attempt back for later: not due before its next attempt, with the error kept', async () => {
    const { store } = fixture;
    const at = await nextInstant();
    const [key] = await enqueue(store, 1, at);
    const [claimed] = await store.claimSignals('relay', LEASE, at);
    const retryAt = new Date(at.getTime() + 30_000);
    expect(await store.retrySignal(claimed!.id, 'relay', { at: retryAt, error: 'Temporal did not answer' }, at)).toBe(true);
    expect(await store.claimSignals('relay', LEASE, new Date(retryAt.getTime() - 1))).toEqual([]);
    const [pending] = (await store.listSignals({ status: 'pending' })).filter((s) => s.key === key);
    expect(pending).toMatchObject({ attempts: 1, lastError: 'Temporal did not answer', nextAttemptAt: retryAt });
    const [due] = await store.claimSignals('relay', LEASE, retryAt);
    expect(due).toMatchObject({ key, attempts: 2 });
  });
});
