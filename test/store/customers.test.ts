import { z } from 'zod';
import { CustomerInputSchema, StoreNotFoundError } from '../../src/store';
import { backends, storeFixture, uid } from './backends';

const day = 86_400_000;

describe('CustomerInputSchema', () => {
  it.each([
    ['email', { email: 'not-an-email' }],
    ['phone', { phone: '555-1234' }],
    ['timezone', { timezone: 'Mars/Olympus_Mons' }],
    ['preferredChannel', { preferredChannel: 'fax' }],
    ['points', { points: 1.5 }],
  ])('names %s when it is invalid', (field, bad) => {
    const result = CustomerInputSchema.safeParse({ id: 'c', name: 'N', ...bad });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });

  it('accepts a complete valid customer and applies defaults', () => {
    const parsed = CustomerInputSchema.parse({ id: 'c', name: 'N', phone: '+15005550006', timezone: 'America/New_York' });
    expect(parsed).toMatchObject({ timezone: 'America/New_York', locale: 'en', tier: 'standard', points: 0, preferredChannel: 'email' });
  });
});

describe.each(backends)('customers on %s', (_dialect, open) => {
  const fixture = storeFixture(open);

  it('upserts and reads a customer with every field', async () => {
    const id = uid('cust');
    const lastActivityAt = new Date('2025-01-02T03:04:05.678Z');
    const created = await fixture.store.upsertCustomer({
      id,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+447700900123',
      timezone: 'Europe/London',
      locale: 'en-GB',
      tier: 'gold',
      points: 120,
      totalSpend: 99.5,
      preferredChannel: 'sms',
      consentEmail: true,
      consentSms: false,
      lastActivityAt,
    });
    expect(await fixture.store.getCustomer(id)).toEqual(created);
    expect(created).toMatchObject({
      id,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+447700900123',
      timezone: 'Europe/London',
      locale: 'en-GB',
      tier: 'gold',
      points: 120,
      totalSpend: 99.5,
      preferredChannel: 'sms',
      consentEmail: true,
      consentSms: false,
      lastActivityAt,
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(await fixture.store.getCustomer(uid('missing'))).toBeUndefined();
  });

  it('an update changes only the fields given', async () => {
    const id = uid('cust');
    const first = await fixture.store.upsertCustomer({ id, name: 'Before', email: 'b@example.com', points: 50, consentSms: true });
    const second = await fixture.store.upsertCustomer({ id, name: 'After' });
    expect(second).toMatchObject({ name: 'After', email: 'b@example.com', points: 50, consentSms: true });
    expect(second.createdAt).toEqual(first.createdAt);
  });

  it('rejects invalid input with zod issues naming the field, storing nothing', async () => {
    const id = uid('cust');
    let error: unknown;
    try {
      await fixture.store.upsertCustomer({ id, name: 'X', phone: '0044 7700', timezone: 'Nowhere/Land' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(z.ZodError);
    expect((error as z.ZodError).issues.map((i) => i.path[0]).sort()).toEqual(['phone', 'timezone']);
    expect(await fixture.store.getCustomer(id)).toBeUndefined();
  });

  it('sets consent per channel', async () => {
    const id = uid('cust');
    await fixture.store.upsertCustomer({ id, name: 'C' });
    const sms = await fixture.store.setConsent(id, 'sms', true, { source: 'api' });
    expect([sms.consentEmail, sms.consentSms]).toEqual([false, true]);
    const both = await fixture.store.setConsent(id, 'email', true, { source: 'api' });
    expect([both.consentEmail, both.consentSms]).toEqual([true, true]);
    const revoked = await fixture.store.setConsent(id, 'sms', false, { source: 'api' });
    expect([revoked.consentEmail, revoked.consentSms]).toEqual([true, false]);
    await expect(fixture.store.setConsent(uid('missing'), 'sms', true, { source: 'api' })).rejects.toBeInstanceOf(StoreNotFoundError);
  });

  it('keeps each consent change with its source, time and evidence; the latest per channel is what a customer shows', async () => {
    const id = uid('cust');
    await fixture.store.upsertCustomer({ id, name: 'C', consentEmail: true, consentSms: true });
    expect(await fixture.store.latestConsentChanges(id)).toEqual({});
    await fixture.store.setConsent(id, 'sms', false, { source: 'sms-keyword', evidence: 'STOP from +15005550100 (SM1)' }, new Date('2030-01-02T03:04:05Z'));
    await fixture.store.setConsent(id, 'email', false, { source: 'unsubscribe-link', evidence: 'one-click' }, new Date('2030-01-03T00:00:00Z'));
    await fixture.store.setConsent(id, 'email', true, { source: 'api', evidence: 'token crm' }, new Date('2030-01-04T00:00:00Z'));
    expect(await fixture.store.latestConsentChanges(id)).toEqual({
      sms: { channel: 'sms', granted: false, source: 'sms-keyword', evidence: 'STOP from +15005550100 (SM1)', at: new Date('2030-01-02T03:04:05Z') },
      email: { channel: 'email', granted: true, source: 'api', evidence: 'token crm', at: new Date('2030-01-04T00:00:00Z') },
    });
    // A change for a customer that does not exist leaves no provenance behind.
    const missing = uid('missing');
    await expect(fixture.store.setConsent(missing, 'sms', true, { source: 'api' })).rejects.toBeInstanceOf(StoreNotFoundError);
    expect(await fixture.store.latestConsentChanges(missing)).toEqual({});
  });

  it('keeps consent the customer withdrew through a profile update or import; their resubscribe gives it back', async () => {
    const id = uid('cust');
    await fixture.store.upsertCustomer({ id, name: 'C', consentEmail: true, consentSms: true });
    await fixture.store.setConsent(id, 'email', false, { source: 'api' });
    const updated = await fixture.store.upsertCustomer({ id, name: 'C Renamed', consentEmail: true, consentSms: true });
    expect([updated.name, updated.consentEmail, updated.consentSms]).toEqual(['C Renamed', false, true]);
    // An import may still withdraw consent, and a channel never withdrawn can be granted.
    const other = uid('cust');
    await fixture.store.upsertCustomer({ id: other, name: 'D', consentSms: false });
    expect((await fixture.store.upsertCustomer({ id: other, name: 'D', consentSms: true })).consentSms).toBe(true);
    expect((await fixture.store.upsertCustomer({ id: other, name: 'D', consentSms: false })).consentSms).toBe(false);

    expect((await fixture.store.setConsent(id, 'email', true, { source: 'api' })).consentEmail).toBe(true);
    await fixture.store.upsertCustomer({ id, name: 'C', consentEmail: false });
    expect((await fixture.store.upsertCustomer({ id, name: 'C', consentEmail: true })).consentEmail).toBe(true);
  });

  it('stores a preferred channel', async () => {
    const id = uid('cust');
    await fixture.store.upsertCustomer({ id, name: 'C' });
    expect((await fixture.store.setPreferredChannel(id, 'sms')).preferredChannel).toBe('sms');
    expect((await fixture.store.getCustomer(id))?.preferredChannel).toBe('sms');
    await expect(fixture.store.setPreferredChannel(uid('missing'), 'sms')).rejects.toBeInstanceOf(StoreNotFoundError);
  });

  it('records purchases, activity and loyalty', async () => {
    const id = uid('cust');
    const t0 = new Date('2025-03-01T00:00:00Z');
    await fixture.store.upsertCustomer({ id, name: 'P', totalSpend: 10, lastActivityAt: t0 });
    const bought = await fixture.store.recordPurchase(id, 25.25, new Date(t0.getTime() + day));
    expect(bought.totalSpend).toBeCloseTo(35.25, 6);
    expect(bought.lastActivityAt).toEqual(new Date(t0.getTime() + day));

    // An older event (late delivery) adds its amount but does not move activity backwards.
    const late = await fixture.store.recordPurchase(id, 4.75, t0);
    expect(late.totalSpend).toBeCloseTo(40, 6);
    expect(late.lastActivityAt).toEqual(new Date(t0.getTime() + day));

    const touched = await fixture.store.touchActivity(id, new Date(t0.getTime() + 5 * day));
    expect(touched.lastActivityAt).toEqual(new Date(t0.getTime() + 5 * day));

    const loyal = await fixture.store.updateLoyalty(id, { points: 300, tier: 'platinum' });
    expect([loyal.points, loyal.tier]).toEqual([300, 'platinum']);
    const pointsOnly = await fixture.store.updateLoyalty(id, { points: 310 });
    expect([pointsOnly.points, pointsOnly.tier]).toEqual([310, 'platinum']);
    // Total spend as a journey keeps it: an absolute value, set with the points.
    const spent = await fixture.store.updateLoyalty(id, { points: 320, totalSpend: 99.5 });
    expect([spent.points, spent.tier, spent.totalSpend]).toEqual([320, 'platinum', 99.5]);
    await expect(fixture.store.updateLoyalty(id, { totalSpend: -1 })).rejects.toThrow(RangeError);

    await expect(fixture.store.recordPurchase(uid('missing'), 1, t0)).rejects.toThrow(/unknown customer/);
  });

  it('lists inactive customers page by page', async () => {
    // Far in the past so other tests' customers (active "now") never match.
    const base = new Date('2001-01-01T00:00:00Z').getTime();
    const prefix = uid('inactive');
    const ids = Array.from({ length: 7 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) {
      await fixture.store.upsertCustomer({ id, name: id, lastActivityAt: new Date(base + i * day) });
    }
    const before = new Date(base + 5 * day); // the first 5 (days 0-4) are inactive

    const pages: string[][] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await fixture.store.listInactiveCustomers(before, 2, afterId);
      if (page.length === 0) break;
      pages.push(page.map((c) => c.id));
      afterId = page[page.length - 1]?.id;
    }
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4, 5)]);
  });
});
