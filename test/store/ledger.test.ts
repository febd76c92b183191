import { StoreNotFoundError } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

describe.each(backends)('send ledger and suppressions on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  it('a send is claimed once; a retry after it was sent gets the stored provider id back', async () => {
    const claim = { workflowId: uid('wf'), stepId: 'welcome-email', customerId: uid('cust'), channel: 'email' as const };
    const first = await fixture.store.claimSend(claim);
    expect(first.created).toBe(true);
    expect(first.entry).toMatchObject({ ...claim, status: 'pending', providerMessageId: null });

    const done = await fixture.store.completeSend(claim.workflowId, claim.stepId, { status: 'sent', providerMessageId: '<m1@retention>' });
    expect(done).toMatchObject({ status: 'sent', providerMessageId: '<m1@retention>' });

    const retry = await fixture.store.claimSend(claim);
    expect(retry.created).toBe(false);
    expect(retry.entry).toMatchObject({ status: 'sent', providerMessageId: '<m1@retention>', customerId: claim.customerId });

    // 'sent' is final: a confused later completion does not undo it.
    const after = await fixture.store.completeSend(claim.workflowId, claim.stepId, { status: 'failed', reason: 'timeout' });
    expect(after).toMatchObject({ status: 'sent', providerMessageId: '<m1@retention>', reason: null });
  });

  it('returns the pending entry of an attempt that crashed mid-send', async () => {
    const claim = { workflowId: uid('wf'), stepId: 'nudge-sms', customerId: uid('cust'), channel: 'sms' as const };
    expect((await fixture.store.claimSend(claim)).created).toBe(true);
    // ... the process dies here, before completeSend ...
    const retry = await fixture.store.claimSend(claim);
    expect(retry).toMatchObject({ created: false, entry: { status: 'pending', channel: 'sms' } });

    const skipped = await fixture.store.completeSend(claim.workflowId, claim.stepId, { status: 'skipped', reason: 'quiet hours' });
    expect(skipped).toMatchObject({ status: 'skipped', reason: 'quiet hours' });
  });

  it('concurrent claims of one step: exactly one wins', async () => {
    const claim = { workflowId: uid('wf'), stepId: 'race', customerId: uid('cust'), channel: 'email' as const };
    const results = await Promise.all(Array.from({ length: 10 }, () => fixture.store.claimSend(claim)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('keeps different steps of one workflow apart', async () => {
    const workflowId = uid('wf');
    const a = await fixture.store.claimSend({ workflowId, stepId: 'a', customerId: 'c', channel: 'email' });
    const b = await fixture.store.claimSend({ workflowId, stepId: 'b', customerId: 'c', channel: 'email' });
    expect([a.created, b.created]).toEqual([true, true]);
  });

  it('completing an unclaimed send is an error', async () => {
    await expect(fixture.store.completeSend(uid('wf'), 'x', { status: 'sent' })).rejects.toBeInstanceOf(StoreNotFoundError);
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
