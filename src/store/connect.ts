import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Pool, TypeOverrides } from 'pg';
import type { Database, Dialect } from './schema';

export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
}

/** Opens `sqlite:<file>` (`sqlite::memory:` for a private in-memory database) or `postgres://...`. */
export function connect(databaseUrl: string): Connection {
  if (databaseUrl.startsWith('sqlite:')) return { db: openSqlite(databaseUrl.slice('sqlite:'.length)), dialect: 'sqlite' };
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return { db: openPostgres(databaseUrl), dialect: 'postgres' };
  throw new Error(`unsupported database URL ${JSON.stringify(redact(databaseUrl))}: expected sqlite:<file> or postgres://...`);
}

function openSqlite(file: string): Kysely<Database> {
  const memory = file === ':memory:';
  const resolved = memory ? file : path.resolve(file.replace(/^\/\/(?=\/)/, ''));
  if (!memory) mkdirSync(path.dirname(resolved), { recursive: true });
  const database = new SqliteDatabase(resolved);
  database.pragma('journal_mode = WAL');
  // Several processes (worker, HTTP API, CLI) may share the file: wait for a writer instead of failing.
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  // Reports scan large indexes; memory-mapped reads roughly halve their time.
  database.pragma('mmap_size = 268435456');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres(url: string): Kysely<Database> {
  // Timestamps are bigint epoch ms and counts are bigint: all well inside Number's exact range.
  const types = new TypeOverrides();
  types.setTypeParser(20, (value: string) => Number(value));
  types.setTypeParser(1700, (value: string) => Number(value));
  const pool = new Pool({ connectionString: url, types, max: 10 });
  // An idle connection the server closes (restart, failover, a dropped database) emits 'error' on the pool; unhandled,
  // that would end the process. The pool discards such a client and opens a new one on the next query.
  pool.on('error', (error) => console.warn(`database: an idle connection was closed by the server: ${error.message}`));
  // The same for a connection in use (between the statements of a transaction, say): its next query fails and the
  // pool discards it, but the client's own 'error' event must be handled too.
  pool.on('connect', (client) => client.on('error', (error) => console.warn(`database: a connection in use was closed by the server: ${error.message}`)));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Runs `fn` as one serialised write transaction.
 * SQLite: `BEGIN IMMEDIATE` takes the database write lock up front, so concurrent read-then-write
 * transactions (also from other processes) queue on busy_timeout instead of failing on lock upgrade;
 * Kysely's single SQLite connection already serialises callers within this process.
 * PostgreSQL: a transaction holding `pg_advisory_xact_lock(lockKey)`, so only callers on the same key wait.
 */
export async function writeTransaction<T>(
  connection: Connection,
  lockKey: string,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (connection.dialect === 'postgres') {
    return connection.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`.execute(trx);
      return fn(trx);
    });
  }
  return connection.db.connection().execute(async (db) => {
    await sql`begin immediate`.execute(db);
    try {
      const result = await fn(db);
      await sql`commit`.execute(db);
      return result;
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
  });
}
