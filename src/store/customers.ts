import type { Kysely, Selectable, Updateable } from 'kysely';
import { writeTransaction, type Connection } from './connect';
import type { CustomersTable, Database } from './schema';
import {
  CHANNELS,
  CustomerInputSchema,
  StoreNotFoundError,
  type Channel,
  type ConsentChange,
  type ConsentProvenance,
  type ConsentSource,
  type CustomerInput,
  type CustomerProfile,
} from './types';

type CustomerRow = Selectable<CustomersTable>;

function toProfile(row: CustomerRow): CustomerProfile {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    timezone: row.timezone,
    locale: row.locale,
    tier: row.tier,
    points: row.points,
    totalSpend: row.total_spend,
    preferredChannel: row.preferred_channel as Channel,
    consentEmail: row.consent_email === 1,
    consentSms: row.consent_sms === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    lastActivityAt: new Date(row.last_activity_at),
  };
}

function found(row: CustomerRow | undefined, id: string): CustomerProfile {
  if (!row) throw new StoreNotFoundError(`unknown customer ${JSON.stringify(id)}`);
  return toProfile(row);
}

/** Input field -> column. On update only the fields present in the input are written: omitted ones keep their value. */
const columnOf = {
  name: 'name',
  email: 'email',
  phone: 'phone',
  timezone: 'timezone',
  locale: 'locale',
  tier: 'tier',
  points: 'points',
  totalSpend: 'total_spend',
  preferredChannel: 'preferred_channel',
  consentEmail: 'consent_email',
  consentSms: 'consent_sms',
  lastActivityAt: 'last_activity_at',
} as const satisfies Partial<Record<keyof CustomerInput, keyof CustomersTable>>;

async function insertConsentChange(db: Kysely<Database>, customerId: string, channel: Channel, granted: boolean, provenance: ConsentProvenance, at: number) {
  await db
    .insertInto('consent_changes')
    .values({ customer_id: customerId, channel, granted: granted ? 1 : 0, source: provenance.source, evidence: provenance.evidence ?? null, at })
    .execute();
}

export function customerQueries(connection: Connection) {
  const { db } = connection;
  /** Moves last activity forward to `at` (never backwards), adding `spend` to the total. */
  async function advanceActivity(customerId: string, at: Date, spend: number): Promise<CustomerProfile> {
    const ms = at.getTime();
    const row = await db
      .updateTable('customers')
      .set((eb) => ({
        total_spend: eb('total_spend', '+', spend),
        last_activity_at: eb.case().when('last_activity_at', '<', ms).then(ms).else(eb.ref('last_activity_at')).end(),
        updated_at: Date.now(),
      }))
      .where('id', '=', customerId)
      .returningAll()
      .executeTakeFirst();
    return found(row, customerId);
  }

  return {
    /** Validates `input` (throws a ZodError naming each bad field), inserts or updates, returns the stored profile. */
    async upsertCustomer(input: CustomerInput): Promise<CustomerProfile> {
      const c = CustomerInputSchema.parse(input);
      const now = Date.now();
      const values = {
        id: c.id,
        name: c.name,
        email: c.email ?? null,
        phone: c.phone ?? null,
        timezone: c.timezone,
        locale: c.locale,
        tier: c.tier,
        points: c.points,
        total_spend: c.totalSpend,
        preferred_channel: c.preferredChannel,
        consent_email: c.consentEmail ? 1 : 0,
        consent_sms: c.consentSms ? 1 : 0,
        created_at: now,
        updated_at: now,
        last_activity_at: c.lastActivityAt?.getTime() ?? now,
      };
      const row = await db
        .insertInto('customers')
        .values(values)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => {
            const update: Record<string, unknown> = { updated_at: now };
            for (const field of Object.keys(columnOf) as (keyof typeof columnOf)[]) {
              if (input[field] !== undefined) update[columnOf[field]] = values[columnOf[field]];
            }
            // Consent the customer withdrew stays withdrawn whatever a profile update or import says.
            for (const [consent, revokedAt] of [['consent_email', 'email_revoked_at'], ['consent_sms', 'sms_revoked_at']] as const) {
              if (update[consent] === 1) update[consent] = eb.case().when(`customers.${revokedAt}`, 'is not', null).then(0).else(1).end();
            }
            return update as Updateable<CustomersTable>;
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toProfile(row);
    },

    async getCustomer(id: string): Promise<CustomerProfile | undefined> {
      const row = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toProfile(row);
    },

    /**
     * Customers with this E.164 phone number, in id order (a number can be shared, e.g. by a household; consent
     * given or withdrawn by SMS is about the number, so callers act on all of them).
     */
    async findCustomersByPhone(phone: string, limit = 100): Promise<CustomerProfile[]> {
      const rows = await db.selectFrom('customers').selectAll().where('phone', '=', phone.trim()).orderBy('id').limit(limit).execute();
      return rows.map(toProfile);
    },

    /**
     * A consent change by the customer or for them (unsubscribe, resubscribe, STOP, START, an operator's change), kept
     * with its provenance. A withdrawal is remembered, so a later profile update or import cannot give the consent
     * back; a resubscribe clears it.
     */
    async setConsent(customerId: string, channel: Channel, granted: boolean, provenance: ConsentProvenance, at: Date = new Date()): Promise<CustomerProfile> {
      const column = channel === 'email' ? 'consent_email' : 'consent_sms';
      const revoked = channel === 'email' ? 'email_revoked_at' : 'sms_revoked_at';
      const now = at.getTime();
      return writeTransaction(connection, `consent:${customerId}`, async (trx) => {
        const row = await trx
          .updateTable('customers')
          .set({ [column]: granted ? 1 : 0, [revoked]: granted ? null : now, updated_at: now })
          .where('id', '=', customerId)
          .returningAll()
          .executeTakeFirst();
        const profile = found(row, customerId);
        await insertConsentChange(trx, customerId, channel, granted, provenance, now);
        return profile;
      });
    },

    /** Keeps a consent change made by a profile update or import (the profile itself is already written). */
    async recordConsentChange(customerId: string, channel: Channel, granted: boolean, provenance: ConsentProvenance, at: Date = new Date()): Promise<void> {
      await insertConsentChange(db, customerId, channel, granted, provenance, at.getTime());
    },

    /** The latest recorded consent change per channel (none for a channel only ever set by profile or import). */
    async latestConsentChanges(customerId: string): Promise<Partial<Record<Channel, ConsentChange>>> {
      const latest: Partial<Record<Channel, ConsentChange>> = {};
      for (const channel of CHANNELS) {
        const row = await db
          .selectFrom('consent_changes')
          .selectAll()
          .where('customer_id', '=', customerId)
          .where('channel', '=', channel)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (row) {
          latest[channel] = {
            channel,
            granted: row.granted === 1,
            source: row.source as ConsentSource,
            ...(row.evidence === null ? {} : { evidence: row.evidence }),
            at: new Date(Number(row.at)),
          };
        }
      }
      return latest;
    },

    /** Adds `amount` to total spend and moves last activity forward to `at` (never backwards). */
    async recordPurchase(customerId: string, amount: number, at: Date): Promise<CustomerProfile> {
      if (!Number.isFinite(amount)) throw new RangeError(`purchase amount must be a finite number, got ${amount}`);
      return advanceActivity(customerId, at, amount);
    },

    touchActivity: (customerId: string, at: Date): Promise<CustomerProfile> => advanceActivity(customerId, at, 0),

    async setPreferredChannel(customerId: string, channel: Channel): Promise<CustomerProfile> {
      const row = await db
        .updateTable('customers')
        .set({ preferred_channel: channel, updated_at: Date.now() })
        .where('id', '=', customerId)
        .returningAll()
        .executeTakeFirst();
      return found(row, customerId);
    },

    /** Sets the loyalty figures a journey keeps (absolute values, not increments). */
    async updateLoyalty(customerId: string, change: { points?: number; tier?: string; totalSpend?: number }): Promise<CustomerProfile> {
      if (change.points !== undefined && (!Number.isInteger(change.points) || change.points < 0)) {
        throw new RangeError(`points must be a non-negative integer, got ${change.points}`);
      }
      if (change.totalSpend !== undefined && (!Number.isFinite(change.totalSpend) || change.totalSpend < 0)) {
        throw new RangeError(`total spend must be a non-negative number, got ${change.totalSpend}`);
      }
      const row = await db
        .updateTable('customers')
        .set({
          ...(change.points !== undefined && { points: change.points }),
          ...(change.tier !== undefined && { tier: change.tier }),
          ...(change.totalSpend !== undefined && { total_spend: change.totalSpend }),
          updated_at: Date.now(),
        })
        .where('id', '=', customerId)
        .returningAll()
        .executeTakeFirst();
      return found(row, customerId);
    },

    /**
     * Customers whose last activity is before `before`, in id order. Pass the last id of a page as
     * `afterId` to get the next one (keyset pagination: stable while rows are added or touched).
     */
    async listInactiveCustomers(before: Date, limit: number, afterId?: string): Promise<CustomerProfile[]> {
      let query = db
        .selectFrom('customers')
        .selectAll()
        .where('last_activity_at', '<', before.getTime())
        .orderBy('id')
        .limit(limit);
      if (afterId !== undefined) query = query.where('id', '>', afterId);
      return (await query.execute()).map(toProfile);
    },
  };
}
