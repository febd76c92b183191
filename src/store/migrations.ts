import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './schema';

// Migrations live in code (not files read at run time) so they work the same under tsc, tsx and swc.
// Never edit a released migration: add a new one with a later, sortable name.

function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('phone', 'text')
        .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
        .addColumn('locale', 'text', (c) => c.notNull().defaultTo('en'))
        .addColumn('tier', 'text', (c) => c.notNull().defaultTo('standard'))
        .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total_spend', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('preferred_channel', 'text', (c) => c.notNull().defaultTo('email'))
        .addColumn('consent_email', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('consent_sms', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('customers_last_activity').on('customers').columns(['last_activity_at', 'id']).execute();

      await db.schema
        .createTable('send_ledger')
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('step_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('provider_message_id', 'text')
        .addColumn('reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('send_ledger_pk', ['workflow_id', 'step_id'])
        .execute();
      await db.schema.createIndex('send_ledger_customer').on('send_ledger').column('customer_id').execute();

      // The one dialect difference: how an auto-generated integer key is spelled.
      const outcomes =
        dialect === 'postgres'
          ? db.schema.createTable('outcomes').addColumn('id', 'serial', (c) => c.primaryKey())
          : db.schema.createTable('outcomes').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await outcomes
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('campaign_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('variant', 'text', (c) => c.notNull())
        .addColumn('holdout', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('channel', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('value', 'double precision')
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('data', 'text')
        .execute();
      await db.schema.createIndex('outcomes_occurred_at').on('outcomes').column('occurred_at').execute();
      await db.schema.createIndex('outcomes_campaign_status').on('outcomes').columns(['campaign_id', 'status']).execute();
      await db.schema.createIndex('outcomes_customer').on('outcomes').column('customer_id').execute();

      await db.schema
        .createTable('suppressions')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('suppressions_pk', ['channel', 'address'])
        .execute();

      await db.schema
        .createTable('message_status')
        .addColumn('provider_message_id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_rank', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('message_status_events')
        .addColumn('provider_message_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('message_status_events_pk', ['provider_message_id', 'status'])
        .execute();

      await db.schema
        .createTable('frequency_reservations')
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('reserved_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('frequency_reservations_pk', ['customer_id', 'channel', 'key'])
        .execute();
      await db.schema
        .createIndex('frequency_reservations_window')
        .on('frequency_reservations')
        .columns(['customer_id', 'channel', 'reserved_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'frequency_reservations',
        'message_status_events',
        'message_status',
        'suppressions',
        'outcomes',
        'send_ledger',
        'customers',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/**
 * Indexes for the report (src/reports), so it aggregates a million outcome rows from indexes alone:
 * - outcomes_report covers the report's main pass, in its GROUP BY order (SQLite streams the groups instead of
 *   sorting every row), including the run (workflow_id) each entry's conversion is looked up by;
 * - outcomes_status_customer serves per-customer aggregates of one status (purchases, first churn) and status scans;
 * - outcomes_workflow_status serves the per-run lookups (conversion after entry, resolution of a complaint, won back).
 */
const reportIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('outcomes_report')
      .on('outcomes')
      .columns(['campaign_id', 'stage', 'variant', 'holdout', 'status', 'reason', 'occurred_at', 'customer_id', 'value', 'workflow_id'])
      .execute();
    await db.schema.createIndex('outcomes_status_customer').on('outcomes').columns(['status', 'customer_id', 'occurred_at', 'value']).execute();
    await db.schema.createIndex('outcomes_workflow_status').on('outcomes').columns(['workflow_id', 'status', 'occurred_at']).execute();
  },
  async down(db: Kysely<unknown>) {
    for (const index of ['outcomes_workflow_status', 'outcomes_status_customer', 'outcomes_report']) {
      await db.schema.dropIndex(index).ifExists().execute();
    }
  },
};

/** Lookups by phone (inbound SMS keywords) and by provider message id (delivery receipts). */
const lookupIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('customers_phone').on('customers').column('phone').execute();
    await db.schema.createIndex('send_ledger_provider_message').on('send_ledger').column('provider_message_id').execute();
  },
  async down(db: Kysely<unknown>) {
    for (const index of ['send_ledger_provider_message', 'customers_phone']) await db.schema.dropIndex(index).ifExists().execute();
  },
};

/**
 * Exactly once under faults (issue 10):
 * - send_ledger is keyed by run as well (workflow id + first execution run id + step): a re-entered journey is a
 *   conversation of its own. The claim becomes a lease (owner, expiry) so only one attempt can send, and the row
 *   remembers when the transport was called (the in-doubt window) and which channel was asked for and used;
 * - outcomes get a natural key (fact_key, unique where set): a retried write of the same fact is one row;
 * - idempotency_records and webhook_replays hold what the HTTP API must remember across instances and restarts.
 */
function exactlyOnce(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('send_ledger').renameTo('send_ledger_v1').execute();
      if (dialect === 'postgres') {
        // PostgreSQL keeps constraint and index names with the renamed table: free them for the new one.
        await sql`alter table send_ledger_v1 rename constraint send_ledger_pk to send_ledger_v1_pk`.execute(db);
      }
      await db.schema.dropIndex('send_ledger_customer').ifExists().execute();
      await db.schema.dropIndex('send_ledger_provider_message').ifExists().execute();
      await db.schema
        .createTable('send_ledger')
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('step_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('requested_channel', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('provider_message_id', 'text')
        .addColumn('reason', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('transport_started_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('send_ledger_pk', ['workflow_id', 'run_id', 'step_id'])
        .execute();
      await sql`insert into send_ledger (workflow_id, run_id, step_id, customer_id, requested_channel, channel, status,
          provider_message_id, reason, attempts, created_at, updated_at)
        select workflow_id, '', step_id, customer_id, channel, channel, status, provider_message_id, reason, 1, created_at, updated_at
        from send_ledger_v1`.execute(db);
      await db.schema.dropTable('send_ledger_v1').execute();
      await db.schema.createIndex('send_ledger_customer').on('send_ledger').column('customer_id').execute();
      await db.schema.createIndex('send_ledger_provider_message').on('send_ledger').column('provider_message_id').execute();

      await db.schema.alterTable('outcomes').addColumn('fact_key', 'text').execute();
      await db.schema.createIndex('outcomes_fact_key').unique().on('outcomes').column('fact_key').execute();

      await db.schema
        .createTable('idempotency_records')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('response_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('response_type', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_records_pk', ['scope', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_records_expiry').on('idempotency_records').column('expires_at').execute();

      await db.schema
        .createTable('webhook_replays')
        .addColumn('signature', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_replays_expiry').on('webhook_replays').column('expires_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('webhook_replays').ifExists().execute();
      await db.schema.dropTable('idempotency_records').ifExists().execute();
      await db.schema.dropIndex('outcomes_fact_key').ifExists().execute();
      await db.schema.alterTable('outcomes').dropColumn('fact_key').execute();
      throw new Error('0004_exactly_once cannot be undone past the outcome keys: the run-keyed ledger has no v1 shape');
    },
  };
}

/**
 * Consent that holds (issue 12): when the customer withdrew consent for a channel. A profile update or import cannot
 * give that consent back; only the customer's resubscribe (which clears it) can.
 */
const consentRevocations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('customers').addColumn('email_revoked_at', 'bigint').execute();
    await db.schema.alterTable('customers').addColumn('sms_revoked_at', 'bigint').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('customers').dropColumn('sms_revoked_at').execute();
    await db.schema.alterTable('customers').dropColumn('email_revoked_at').execute();
  },
};

/**
 * Secure by default (issue 12): the HTTP API's rate limits count in the store, so every API instance behind the
 * load balancer sees the same count. One row per limiter, client and fixed window; ended windows are deleted.
 */
const rateLimits: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('limiter', 'text', (c) => c.notNull())
      .addColumn('client_key', 'text', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limits_pk', ['limiter', 'client_key', 'window_start'])
      .execute();
    await db.schema.createIndex('rate_limits_expiry').on('rate_limits').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('rate_limits').ifExists().execute();
  },
};

/**
 * Nothing lost when Temporal is down (issue 12): signals to journeys that could not be delivered (a customer's
 * unsubscribe or survey answer) wait here, and every API instance delivers them when Temporal is back.
 */
function pendingSignals(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table =
        dialect === 'postgres'
          ? db.schema.createTable('pending_signals').addColumn('id', 'serial', (c) => c.primaryKey())
          : db.schema.createTable('pending_signals').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await table
        .addColumn('signal_key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pending_signals_key').unique().on('pending_signals').column('signal_key').execute();
      await db.schema.createIndex('pending_signals_due').on('pending_signals').columns(['status', 'next_attempt_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('pending_signals').ifExists().execute();
    },
  };
}

/** Consent provenance: each consent change with its source, time and evidence (append-only; the customer's latest is shown). */
function consentChanges(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table =
        dialect === 'postgres'
          ? db.schema.createTable('consent_changes').addColumn('id', 'serial', (c) => c.primaryKey())
          : db.schema.createTable('consent_changes').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await table
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('consent_changes_customer').on('consent_changes').columns(['customer_id', 'channel', 'id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('consent_changes').ifExists().execute();
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '0001_initial': initial(dialect), '0002_report_indexes': reportIndexes, '0003_lookup_indexes': lookupIndexes,
        '0004_exactly_once': exactlyOnce(dialect), '0005_consent_revocations': consentRevocations,
        '0006_rate_limits': rateLimits, '0007_pending_signals': pendingSignals(dialect),
        '0008_consent_changes': consentChanges(dialect),
      };
    },
  };
}
