import type { OutcomeRecord } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

describe.each(backends)('outcomes on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  function outcome(overrides: Partial<OutcomeRecord> & Pick<OutcomeRecord, 'campaignId'>): OutcomeRecord {
    return {
      customerId: 'cust-1',
      stage: 'win_back',
      step: 'offer-1',
      variant: 'A',
      holdout: false,
      status: 'sent',
      workflowId: 'wf-1',
      occurredAt: new Date('2025-06-01T00:00:00Z'),
      ...overrides,
    };
  }

  it('records every field and reads it back', async () => {
    const campaignId = uid('camp');
    const full: OutcomeRecord = {
      customerId: uid('cust'),
      stage: 'complaint',
      campaignId,
      step: 'csat-survey',
      variant: 'B',
      holdout: true,
      channel: 'sms',
      status: 'csat',
      reason: 'survey answered',
      value: 4.5,
      workflowId: uid('wf'),
      occurredAt: new Date('2025-06-02T10:11:12.131Z'),
      data: { comment: 'quick fix', tags: ['billing'] },
    };
    const stored = await fixture.store.recordOutcome(full);
    expect(stored.id).toEqual(expect.any(Number));
    expect(stored).toEqual({ ...full, id: stored.id, factKey: null });
    expect(await fixture.store.listOutcomes({ campaignId })).toEqual([stored]);
  });

  it('stores a fact once under its natural key, however often it is written', async () => {
    const campaignId = uid('camp');
    const factKey = `purchase/${uid('cust')}/order-7`;
    const first = await fixture.store.recordOutcome(outcome({ campaignId, status: 'purchase', value: 42, factKey }));
    const again = await fixture.store.recordOutcome(outcome({ campaignId, status: 'purchase', value: 42, factKey }));
    const parallel = await Promise.all([1, 2, 3].map(() => fixture.store.recordOutcome(outcome({ campaignId, status: 'purchase', value: 42, factKey }))));
    expect(again.id).toBe(first.id);
    expect(parallel.map((o) => o.id)).toEqual([first.id, first.id, first.id]);
    // Without a key every write is its own fact.
    await fixture.store.recordOutcome(outcome({ campaignId, status: 'purchase', value: 42 }));
    await fixture.store.recordOutcome(outcome({ campaignId, status: 'purchase', value: 42 }));
    expect(await fixture.store.listOutcomes({ campaignId })).toHaveLength(3);
  });

  it('fills optional fields with null', async () => {
    const campaignId = uid('camp');
    const stored = await fixture.store.recordOutcome(outcome({ campaignId, status: 'entered' }));
    expect(stored).toMatchObject({ channel: null, reason: null, value: null, data: null, holdout: false });
  });

  it('filters by customer, campaign, status and time, oldest first', async () => {
    const campaignId = uid('camp');
    const other = uid('camp');
    const day = (d: number) => new Date(Date.UTC(2025, 5, d));
    await fixture.store.recordOutcome(outcome({ campaignId, customerId: 'a', status: 'sent', occurredAt: day(3) }));
    await fixture.store.recordOutcome(outcome({ campaignId, customerId: 'a', status: 'converted', occurredAt: day(5), value: 49.9 }));
    await fixture.store.recordOutcome(outcome({ campaignId, customerId: 'b', status: 'sent', occurredAt: day(1) }));
    await fixture.store.recordOutcome(outcome({ campaignId, customerId: 'c', status: 'sent', holdout: true, occurredAt: day(2) }));
    await fixture.store.recordOutcome(outcome({ campaignId: other, customerId: 'a', status: 'sent', occurredAt: day(4) }));

    const sent = await fixture.store.listOutcomes({ campaignId, status: 'sent' });
    expect(sent.map((o) => o.customerId)).toEqual(['b', 'c', 'a']);
    expect(sent.map((o) => o.holdout)).toEqual([false, true, false]);

    const forA = await fixture.store.listOutcomes({ campaignId, customerId: 'a' });
    expect(forA.map((o) => [o.status, o.value])).toEqual([
      ['sent', null],
      ['converted', 49.9],
    ]);
    const either = await fixture.store.listOutcomes({ campaignId, status: ['converted', 'sent'], from: day(2), to: day(5) });
    expect(either.map((o) => o.customerId)).toEqual(['c', 'a']);
    expect(await fixture.store.listOutcomes({ campaignId, status: 'churned' })).toEqual([]);
    expect(await fixture.store.listOutcomes({ campaignId, limit: 2 })).toHaveLength(2);
  });
});
