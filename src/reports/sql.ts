import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store';
import type { ReportQuery } from './types';

/** SQL shared by the report's parts; everything here runs unchanged on SQLite and PostgreSQL. */

export type Db = Kysely<Database>;
export type Condition = RawBuilder<unknown>;

export function column(alias: string, name: string): RawBuilder<unknown> {
  return sql.ref(`${alias}.${name}`);
}

export function and(conditions: Condition[]): Condition {
  return conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` and `);
}

/** The query's stage/campaign/variant filters on outcome rows (alias `alias`), and its tier through customers. */
export function outcomeFilters(q: ReportQuery, alias: string): Condition[] {
  const conditions: Condition[] = [];
  if (q.stage !== undefined) conditions.push(sql`${column(alias, 'stage')} = ${q.stage}`);
  if (q.campaignId !== undefined) conditions.push(sql`${column(alias, 'campaign_id')} = ${q.campaignId}`);
  if (q.variant !== undefined) conditions.push(sql`${column(alias, 'variant')} = ${q.variant}`);
  if (q.tier !== undefined) {
    conditions.push(sql`${column(alias, 'customer_id')} in (select t.id from customers t where t.tier = ${q.tier})`);
  }
  return conditions;
}

/** occurred_at in [from, to). */
export function inPeriod(q: ReportQuery, alias: string): Condition {
  return sql`${column(alias, 'occurred_at')} >= ${q.from.getTime()} and ${column(alias, 'occurred_at')} < ${q.to.getTime()}`;
}

export function statusIs(alias: string, ...statuses: string[]): Condition {
  if (statuses.length === 1) return sql`${column(alias, 'status')} = ${statuses[0]}`;
  return sql`${column(alias, 'status')} in (${sql.join(statuses.map((s) => sql`${s}`))})`;
}

/** Rows of `query`; counts and sums come back as numbers on both dialects (see src/store/connect.ts). */
export async function rows<T>(db: Db, query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

/**
 * Index of the bucket `expr` falls in, given ascending boundaries b0 < b1 < ... < bK: -1 before b0, i for
 * [b_i, b_i+1), K from bK on, K + 1 for NULL. Boundaries are integers we computed, so they are inlined.
 */
export function bucketIndex(expr: RawBuilder<unknown>, boundaries: number[]): RawBuilder<number> {
  const k = boundaries.length - 1;
  const arms = boundaries.map((b, i) => sql`when ${expr} < ${sql.lit(Math.trunc(b))} then ${sql.lit(i - 1)}`);
  return sql<number>`case when ${expr} is null then ${sql.lit(k + 1)} ${sql.join(arms, sql` `)} else ${sql.lit(k)} end`;
}

export function rate(numerator: number, denominator: number) {
  return { numerator, denominator, rate: denominator === 0 ? null : numerator / denominator };
}

/**
 * No later `entered` of the same workflow between entry `e` and outcome `x`: a re-entered journey's results
 * belong to its own run.
 */
export const sameRun = (e: string, x: string) =>
  sql`not exists (select 1 from outcomes n where n.workflow_id = ${sql.ref(`${e}.workflow_id`)} and n.status = 'entered'
    and n.occurred_at > ${sql.ref(`${e}.occurred_at`)} and n.occurred_at <= ${sql.ref(`${x}.occurred_at`)})`;
