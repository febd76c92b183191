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
      expect(rows.rows.map((r) => r.name)).toEqual(['0001_initial', '0002_report_indexes', '0003_lookup_indexes']);
    } finally {
      await db.destroy();
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
