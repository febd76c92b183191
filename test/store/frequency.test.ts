import { backends, storeFixture, uid } from './backends';

const hour = 3_600_000;

describe.each(backends)('frequency cap on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  it('grants exactly max slots to concurrent callers', async () => {
    const customers = Array.from({ length: 5 }, () => uid('cust'));
    const now = new Date('2025-06-01T12:00:00Z');
    // Several rounds over a warm connection pool, so requests really overlap.
    for (let round = 0; round < 3; round += 1) {
      const answers = await Promise.all(
        customers.flatMap((customerId) =>
          Array.from({ length: 20 }, (_, i) =>
            fixture.store
              .reserveFrequencySlot({ customerId, channel: 'email', max: 3, windowMs: 24 * hour, now, key: `r${round}-wf-${i}:step` })
              .then((granted) => ({ customerId, granted })),
          ),
        ),
      );
      for (const customerId of customers) {
        const granted = answers.filter((a) => a.customerId === customerId && a.granted);
        expect({ customerId, round, granted: granted.length }).toEqual({ customerId, round, granted: round === 0 ? 3 : 0 });
      }
    }
    // Another channel has its own budget.
    expect(
      await fixture.store.reserveFrequencySlot({ customerId: customers[0] ?? '', channel: 'sms', max: 3, windowMs: 24 * hour, now, key: 'sms-1' }),
    ).toBe(true);
  });

  it('the same key asking again gets the same answer and uses one slot', async () => {
    const customerId = uid('cust');
    const now = new Date('2025-06-01T12:00:00Z');
    const ask = (key: string) =>
      fixture.store.reserveFrequencySlot({ customerId, channel: 'sms', max: 2, windowMs: hour, now, key });
    const repeated = await Promise.all([ask('wf-a:s1'), ask('wf-a:s1'), ask('wf-a:s1')]);
    expect(repeated).toEqual([true, true, true]);
    expect(await ask('wf-b:s1')).toBe(true); // the second slot is still free
    expect(await ask('wf-c:s1')).toBe(false);
    expect(await ask('wf-a:s1')).toBe(true);
    // Keys are per customer and channel: another customer's identical key is a separate request.
    expect(
      await fixture.store.reserveFrequencySlot({ customerId: uid('cust'), channel: 'sms', max: 2, windowMs: hour, now, key: 'wf-c:s1' }),
    ).toBe(true);
  });

  it('reservations older than the window no longer count', async () => {
    const customerId = uid('cust');
    const t0 = new Date('2025-06-01T00:00:00Z').getTime();
    const ask = (key: string, at: number) =>
      fixture.store.reserveFrequencySlot({ customerId, channel: 'email', max: 2, windowMs: 24 * hour, now: new Date(at), key });
    expect(await ask('k1', t0)).toBe(true);
    expect(await ask('k2', t0 + 12 * hour)).toBe(true);
    expect(await ask('k3', t0 + 23 * hour)).toBe(false);
    // At exactly t0 + 24h the first reservation has left the window; the second has not.
    expect(await ask('k4', t0 + 24 * hour)).toBe(true);
    expect(await ask('k5', t0 + 30 * hour)).toBe(false);
    expect(await ask('k6', t0 + 36 * hour)).toBe(true);
  });

  it('names the moment a refused request gets a slot: when the oldest reservation in the window ages out', async () => {
    const customerId = uid('cust');
    const t0 = new Date('2025-06-01T00:00:00Z').getTime();
    const window = (at: number) => ({ customerId, channel: 'email' as const, max: 2, windowMs: 24 * hour, now: new Date(at) });
    expect(await fixture.store.frequencySlotFreesAt(window(t0))).toBe(t0);
    expect(await fixture.store.reserveFrequencySlot({ ...window(t0 + 1 * hour), key: 'k1' })).toBe(true);
    expect(await fixture.store.reserveFrequencySlot({ ...window(t0 + 5 * hour), key: 'k2' })).toBe(true);
    expect(await fixture.store.frequencySlotFreesAt(window(t0 + 6 * hour))).toBe(t0 + 25 * hour);
    // After k1 aged out and k3 took its slot, the next one frees when k2 ages out.
    expect(await fixture.store.reserveFrequencySlot({ ...window(t0 + 25 * hour), key: 'k3' })).toBe(true);
    expect(await fixture.store.frequencySlotFreesAt(window(t0 + 26 * hour))).toBe(t0 + 29 * hour);
    // A lowered cap (1 now, 2 held) needs both to age out: k3's time.
    expect(await fixture.store.frequencySlotFreesAt({ ...window(t0 + 26 * hour), max: 1 })).toBe(t0 + 49 * hour);
  });
});
