import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createStore } from '../../src/store';
import { connect } from '../../src/store/connect';
import { backends, storeFixture } from './backends';

describe.each(backends)('store migrations on %s', (dialect, open) => {
  const fixture = storeFixture(open);

  it('reports its dialect', () => {
    expect(fixture.store.dialect).toBe(dialect);
  });

  it('migrating again is a no-op that keeps the data', async () => {
    const { store, url } = fixture;
    await store.upsertCustomer({ id: 'kept', name: 'Kept Customer' });
    await store.migrate();
    await store.migrate();

    const second = await createStore(url);
    try {
      await second.migrate();
      expect((await second.getCustomer('kept'))?.name).toBe('Kept Customer');
    } finally {
      await second.close();
    }

    const { db } = connect(url);
    try {
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(rows.rows.map((r) => r.name)).toEqual(['0001_initial', '0002_report_indexes', '0003_lookup_indexes', '0004_exactly_once', '0005_consent_revocations', '0006_rate_limits', '0007_pending_signals', '0008_consent_changes']);
    } finally {
      await db.destroy();
    }
  });

  it('0004 keys the ledger by run and keeps what was sent before: an old entry stays final for its step', async () => {
    const { url } = fixture;
    const { db } = connect(url);
    try {
      // Back to the ledger as it was (a fresh database of this test's own would be the same), before 0005 to 0008 as well.
      await sql`drop table if exists consent_changes`.execute(db);
      await sql`delete from kysely_migration where name = '0008_consent_changes'`.execute(db);
      await sql`drop table if exists pending_signals`.execute(db);
      await sql`delete from kysely_migration where name = '0007_pending_signals'`.execute(db);
      await sql`drop table if exists rate_limits`.execute(db);
      await sql`delete from kysely_migration where name = '0006_rate_limits'`.execute(db);
      await sql`alter table customers drop column email_revoked_at`.execute(db);
      await sql`alter table customers drop column sms_revoked_at`.execute(db);
      await sql`delete from kysely_migration where name = '0005_consent_revocations'`.execute(db);
      await sql`drop table if exists webhook_replays`.execute(db);
      await sql`drop table if exists idempotency_records`.execute(db);
      await sql`drop index if exists outcomes_fact_key`.execute(db);
      await sql`alter table outcomes drop column fact_key`.execute(db);
      await sql`drop table send_ledger`.execute(db);
      await sql`delete from kysely_migration where name = '0004_exactly_once'`.execute(db);
      await sql`create table send_ledger (workflow_id text not null, step_id text not null, customer_id text not null,
        channel text not null, status text not null, provider_message_id text, reason text, created_at bigint not null,
        updated_at bigint not null, constraint send_ledger_pk primary key (workflow_id, step_id))`.execute(db);
      await sql`insert into send_ledger values ('onboarding-old', 'welcome', 'old', 'sms', 'sent', 'SM1', null, 1, 2)`.execute(db);
    } finally {
      await db.destroy();
    }
    const store = await createStore(url);
    try {
      await store.migrate();
      const before = { workflowId: 'onboarding-old', runId: '', stepId: 'welcome' };
      expect(await store.getSend(before)).toMatchObject({ status: 'sent', channel: 'sms', requestedChannel: 'sms', providerMessageId: 'SM1' });
      expect(await store.claimSend({ ...before, customerId: 'old', channel: 'sms', owner: 'a', leaseMs: 1000 })).toMatchObject({ kind: 'final' });
    } finally {
      await store.close();
    }
  });
});

describe('the PostgreSQL store', () => {
  const fixture = storeFixture(backends.find(([dialect]) => dialect === 'postgres')![1]);

  it('survives the server closing a connection that is in use (a restart mid-transaction), and goes on', async () => {
    const { store, url } = fixture;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await store.kysely.connection().execute(async (db) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
        const admin = connect(url);
        try {
          await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(admin.db);
        } finally {
          await admin.db.destroy();
        }
        // The client learns of it while it is checked out: unhandled, that 'error' event would end the process.
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^database: a connection in use was closed by the server/));
      await store.upsertCustomer({ id: 'after-restart', name: 'Still Here' });
      expect((await store.getCustomer('after-restart'))?.name).toBe('Still Here');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('createStore', () => {
  it('creates the SQLite file with its folder and uses WAL', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'store-create-'));
    const file = path.join(dir, 'a', 'b', 'retention.sqlite');
    try {
      const store = await createStore(`sqlite:${file}`);
      await store.migrate();
      await store.close();
      expect(existsSync(file)).toBe(true);
      const { db } = connect(`sqlite:${file}`);
      try {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
        expect(mode.rows[0]?.journal_mode).toBe('wal');
      } finally {
        await db.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unsupported URL, without echoing a password', async () => {
    await expect(createStore('mysql://user:secret@db/x')).rejects.toThrow(/unsupported database URL/);
    await expect(createStore('mysql://user:secret@db/x')).rejects.not.toThrow(/secret/);
  });

  it('fails at once, naming the server, when PostgreSQL is unreachable', async () => {
    await expect(createStore('postgres://app:secret@127.0.0.1:1/retention')).rejects.toThrow(
      /^cannot open the database postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/retention: /,
    );
  });
});
