import type { Selectable } from 'kysely';
import type { Connection } from './connect';
import type { OutcomesTable } from './schema';
import type { Channel, OutcomeFilter, OutcomeRecord, OutcomeStatus, StoredOutcome } from './types';

function toOutcome(row: Selectable<OutcomesTable>): StoredOutcome {
  return {
    id: row.id,
    customerId: row.customer_id,
    stage: row.stage,
    campaignId: row.campaign_id,
    step: row.step,
    variant: row.variant,
    holdout: row.holdout === 1,
    channel: row.channel as Channel | null,
    status: row.status as OutcomeStatus,
    reason: row.reason,
    value: row.value,
    workflowId: row.workflow_id,
    occurredAt: new Date(row.occurred_at),
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    factKey: row.fact_key,
  };
}

export function outcomeQueries({ db }: Connection) {
  /** Inserts the fact, telling whether this call stored it (`created`) or found it stored under its `factKey` before. */
  async function recordFact(o: OutcomeRecord): Promise<{ outcome: StoredOutcome; created: boolean }> {
    const factKey = o.factKey ?? null;
    const row = await db
      .insertInto('outcomes')
      .values({
        customer_id: o.customerId,
        stage: o.stage,
        campaign_id: o.campaignId,
        step: o.step,
        variant: o.variant,
        holdout: o.holdout ? 1 : 0,
        channel: o.channel ?? null,
        status: o.status,
        reason: o.reason ?? null,
        value: o.value ?? null,
        workflow_id: o.workflowId,
        occurred_at: o.occurredAt.getTime(),
        data: o.data == null ? null : JSON.stringify(o.data),
        fact_key: factKey,
      })
      .onConflict((oc) => oc.column('fact_key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return { outcome: toOutcome(row), created: true };
    const stored = await db.selectFrom('outcomes').selectAll().where('fact_key', '=', factKey as string).executeTakeFirstOrThrow();
    return { outcome: toOutcome(stored), created: false };
  }

  return {
    recordFact,

    /** Inserts the fact, or returns the row already stored under its `factKey` (a retried write counts once). */
    async recordOutcome(o: OutcomeRecord): Promise<StoredOutcome> {
      return (await recordFact(o)).outcome;
    },

    /** Outcomes matching every given field, oldest first. */
    async listOutcomes(filter: OutcomeFilter = {}): Promise<StoredOutcome[]> {
      let query = db.selectFrom('outcomes').selectAll().orderBy('occurred_at').orderBy('id');
      if (filter.customerId !== undefined) query = query.where('customer_id', '=', filter.customerId);
      if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId);
      if (filter.workflowId !== undefined) query = query.where('workflow_id', '=', filter.workflowId);
      if (filter.status !== undefined) {
        const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
        if (statuses.length === 0) return [];
        query = query.where('status', 'in', statuses);
      }
      if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from.getTime());
      if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to.getTime());
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toOutcome);
    },
  };
}
