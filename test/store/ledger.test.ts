import { StoreNotFoundError, type SendClaim } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

describe.each(backends)('send ledger and suppressions on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  const claimOf = (overrides: Partial<SendClaim> = {}): SendClaim => ({
    workflowId: uid('wf'),
    runId: 'run-1',
    stepId: 'welcome-email',
    customerId: uid('cust'),
    channel: 'email',
    owner: 'attempt-1',
    leaseMs: 30_000,
    ...overrides,
  });
  const keyOf = (c: SendClaim) => ({ workflowId: c.workflowId, runId: c.runId, stepId: c.stepId });

  it('a send is claimed once; a retry after it was sent finds it final with the stored provider id', async () => {
    const claim = claimOf();
    const first = await fixture.store.claimSend(claim);
    expect(first).toMatchObject({ kind: 'owned', inDoubt: false, entry: { status: 'pending', leaseOwner: 'attempt-1', attempts: 1 } });

    const done = await fixture.store.completeSend(keyOf(claim), { status: 'sent', channel: 'email', providerMessageId: '<m1@retention>' });
    expect(done).toMatchObject({ status: 'sent', providerMessageId: '<m1@retention>', leaseOwner: null });

    const retry = await fixture.store.claimSend({ ...claim, owner: 'attempt-2' });
    expect(retry).toMatchObject({ kind: 'final', entry: { status: 'sent', providerMessageId: '<m1@retention>', customerId: claim.customerId } });

    // 'sent' is final: a confused later completion does not undo it.
    const after = await fixture.store.completeSend(keyOf(claim), { status: 'failed', reason: 'timeout' });
    expect(after).toMatchObject({ status: 'sent', providerMessageId: '<m1@retention>', reason: null });
  });

  it('a live lease keeps every other attempt out; a lapsed one passes on, in doubt once the transport was called', async () => {
    const now = Date.now();
    const claim = claimOf({ channel: 'sms', now: new Date(now) });
    expect((await fixture.store.claimSend(claim)).kind).toBe('owned');
    // A second attempt while the first may be sending: busy until the lease lapses.
    const busy = await fixture.store.claimSend({ ...claim, owner: 'attempt-2', now: new Date(now + 10_000) });
    expect(busy).toMatchObject({ kind: 'busy', until: new Date(now + 30_000) });

    // Lapsed before the transport was called: the next attempt owns it and may send without doubt.
    const safe = await fixture.store.claimSend({ ...claim, owner: 'attempt-2', now: new Date(now + 31_000) });
    expect(safe).toMatchObject({ kind: 'owned', inDoubt: false, entry: { leaseOwner: 'attempt-2', attempts: 2 } });
    // The first attempt wakes up and finds its lease gone: it may not call the transport.
    expect(await fixture.store.beginTransport(keyOf(claim), 'attempt-1', new Date(now + 90_000), 'sms', new Date(now + 32_000))).toBe(false);

    expect(await fixture.store.beginTransport(keyOf(claim), 'attempt-2', new Date(now + 62_000), 'sms', new Date(now + 32_000))).toBe(true);
    expect(await fixture.store.renewSend(keyOf(claim), 'attempt-2', new Date(now + 70_000), new Date(now + 40_000))).toBe(true);
    // ... attempt 2 dies mid-transport; its lease lapses ...
    expect(await fixture.store.claimSend({ ...claim, owner: 'attempt-3', now: new Date(now + 69_000) })).toMatchObject({ kind: 'busy' });
    const doubtful = await fixture.store.claimSend({ ...claim, owner: 'attempt-3', now: new Date(now + 71_000) });
    expect(doubtful).toMatchObject({ kind: 'owned', inDoubt: true, entry: { transportStartedAt: new Date(now + 32_000), attempts: 3 } });

    const held = await fixture.store.completeSend(keyOf(claim), { status: 'in-doubt', reason: 'held' });
    expect(held.status).toBe('in-doubt');
    expect(await fixture.store.claimSend({ ...claim, owner: 'attempt-4' })).toMatchObject({ kind: 'final', entry: { status: 'in-doubt' } });
  });

  it('a released lease is free at once; a transport that certainly did not take the message clears the doubt', async () => {
    const claim = claimOf();
    await fixture.store.claimSend(claim);
    expect(await fixture.store.beginTransport(keyOf(claim), 'attempt-1', new Date(Date.now() + 30_000), 'email')).toBe(true);
    await fixture.store.releaseSend(keyOf(claim), 'attempt-1', { transportDone: true });
    expect(await fixture.store.claimSend({ ...claim, owner: 'attempt-2' })).toMatchObject({ kind: 'owned', inDoubt: false });
    // A release by an attempt that no longer owns the lease changes nothing.
    await fixture.store.releaseSend(keyOf(claim), 'attempt-1');
    expect(await fixture.store.claimSend({ ...claim, owner: 'attempt-3' })).toMatchObject({ kind: 'busy' });
  });

  it('concurrent claims of one step: exactly one owns it', async () => {
    const claim = claimOf({ stepId: 'race' });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => fixture.store.claimSend({ ...claim, owner: `attempt-${i}` })));
    expect(results.filter((r) => r.kind === 'owned')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'busy')).toHaveLength(9);
  });

  it('keeps steps and runs apart: a second run of the same workflow sends its own messages', async () => {
    const claim = claimOf();
    await fixture.store.claimSend(claim);
    await fixture.store.completeSend(keyOf(claim), { status: 'sent', providerMessageId: 'first-run' });
    expect((await fixture.store.claimSend({ ...claim, stepId: 'other' })).kind).toBe('owned');
    expect(await fixture.store.claimSend({ ...claim, runId: 'run-2' })).toMatchObject({ kind: 'owned', entry: { runId: 'run-2', status: 'pending' } });
  });

  it('keeps the channel asked for and the one used after a fallback', async () => {
    const claim = claimOf({ channel: 'email' });
    await fixture.store.claimSend(claim);
    const sent = await fixture.store.completeSend(keyOf(claim), { status: 'sent', channel: 'sms', providerMessageId: 'SM1' });
    expect(sent).toMatchObject({ requestedChannel: 'email', channel: 'sms' });
  });

  it('completing an unclaimed send is an error', async () => {
    await expect(fixture.store.completeSend({ workflowId: uid('wf'), runId: 'r', stepId: 'x' }, { status: 'sent' })).rejects.toBeInstanceOf(StoreNotFoundError);
  });

  it('gives a frequency slot back when its message did not go out', async () => {
    const customerId = uid('cust');
    const request = { customerId, channel: 'email' as const, max: 1, windowMs: 86_400_000, now: new Date() };
    expect(await fixture.store.reserveFrequencySlot({ ...request, key: 'wf/run/a' })).toBe(true);
    expect(await fixture.store.reserveFrequencySlot({ ...request, key: 'wf/run/b' })).toBe(false);
    await fixture.store.releaseFrequencySlot(customerId, 'email', 'wf/run/a');
    expect(await fixture.store.reserveFrequencySlot({ ...request, key: 'wf/run/b' })).toBe(true);
  });

  it('suppresses addresses per channel, emails case-insensitively', async () => {
    const email = `${uid('bounce')}@Example.com`;
    expect(await fixture.store.isSuppressed('email', email)).toBe(false);
    await fixture.store.suppress('email', email, 'hard bounce');
    await fixture.store.suppress('email', email, 'again'); // idempotent
    expect(await fixture.store.isSuppressed('email', email.toUpperCase())).toBe(true);
    expect(await fixture.store.isSuppressed('sms', email)).toBe(false);

    await fixture.store.suppress('sms', '+15005550009', 'twilio 21610');
    expect(await fixture.store.isSuppressed('sms', '+15005550009')).toBe(true);
    expect(await fixture.store.isSuppressed('sms', '+15005550010')).toBe(false);
  });
});
