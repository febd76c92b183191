import Database from 'better-sqlite3';
import { Client as PgClient } from 'pg';

export type Row = Record<string, unknown>;

/** Runs one read query on the product's store (SQLite file or PostgreSQL), read-only, without the product's code. */
export async function readStore(databaseUrl: string, sql: string): Promise<Row[]> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return db.prepare(sql).all() as Row[];
    } finally {
      db.close();
    }
  }
  const client = new PgClient({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

/**
 * Sends the store holds as in doubt (EMAIL_IN_DOUBT=hold): ledger rows whose status speaks of doubt or holding,
 * as `<customer> <stage>/<step>` (the workflow id is `<stage>-<customer>`). Empty when the ledger has no such rows.
 */
export async function heldSends(databaseUrl: string): Promise<Set<string>> {
  const held = new Set<string>();
  let rows: Row[];
  try {
    rows = await readStore(databaseUrl, 'select * from send_ledger');
  } catch {
    return held;
  }
  for (const row of rows) {
    if (!/doubt|held|hold/i.test(String(row.status ?? ''))) continue;
    const workflowId = String(row.workflow_id ?? '');
    const dash = workflowId.indexOf('-');
    if (dash < 0) continue;
    held.add(`${workflowId.slice(dash + 1)} ${workflowId.slice(0, dash)}/${String(row.step_id ?? '')}`);
  }
  return held;
}

/** Ledger rows by status, for the notes (`{sent: 590, pending: 2}`). */
export async function ledgerStatusCounts(databaseUrl: string): Promise<Record<string, number>> {
  try {
    const rows = await readStore(databaseUrl, 'select status, count(*) as n from send_ledger group by status');
    return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
  } catch {
    return {};
  }
}
