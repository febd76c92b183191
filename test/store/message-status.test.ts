import { backends, storeFixture, uid } from './backends';

describe.each(backends)('message status on %s', (_dialect, open) => {
  const fixture = storeFixture(open);
  const at = new Date('2025-06-01T12:00:00Z');

  it('moves forward through the delivery states', async () => {
    const sid = uid('SM');
    const steps = [];
    for (const status of ['accepted', 'queued', 'sending', 'sent', 'delivered', 'read'] as const) {
      steps.push(await fixture.store.recordMessageStatus(sid, 'sms', status, at));
    }
    expect(steps.every((s) => s.changed)).toBe(true);
    expect(await fixture.store.getMessageStatus(sid)).toBe('read');
  });

  it('ignores late and repeated events', async () => {
    const sid = uid('SM');
    expect(await fixture.store.recordMessageStatus(sid, 'sms', 'delivered', at)).toEqual({ changed: true, status: 'delivered' });
    expect(await fixture.store.recordMessageStatus(sid, 'sms', 'sent', at)).toEqual({ changed: false, status: 'delivered' });
    expect(await fixture.store.recordMessageStatus(sid, 'sms', 'queued', at)).toEqual({ changed: false, status: 'delivered' });
    expect(await fixture.store.recordMessageStatus(sid, 'sms', 'delivered', at)).toEqual({ changed: false, status: 'delivered' });
    // A competing final state does not replace the first one.
    expect(await fixture.store.recordMessageStatus(sid, 'sms', 'undelivered', at)).toEqual({ changed: false, status: 'delivered' });
    expect(await fixture.store.getMessageStatus(sid)).toBe('delivered');
  });

  it('concurrent duplicate callbacks change the status once', async () => {
    const sid = uid('SM');
    await fixture.store.recordMessageStatus(sid, 'sms', 'queued', at);
    const results = await Promise.all(
      ['sent', 'sent', 'sent', 'failed', 'sent'].map((s) => fixture.store.recordMessageStatus(sid, 'sms', s as 'sent' | 'failed', at)),
    );
    const final = await fixture.store.getMessageStatus(sid);
    expect(final).toBe('failed');
    // 'failed' outranks everything already stored, so it always applies; the four 'sent' apply at most once.
    expect(results[3]).toEqual({ changed: true, status: 'failed' });
    expect(results.filter((r, i) => r.changed && i !== 3).length).toBeLessThanOrEqual(1);
  });

  it('rejects a status it does not know', async () => {
    await expect(fixture.store.recordMessageStatus(uid('SM'), 'sms', 'teleported' as 'sent', at)).rejects.toThrow(/unknown message status/);
  });

  it('returns undefined for a message it never saw', async () => {
    expect(await fixture.store.getMessageStatus(uid('SM'))).toBeUndefined();
  });
});
