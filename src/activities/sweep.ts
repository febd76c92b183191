import { WorkflowNotFoundError } from '@temporalio/client';
import { campaignFor } from '../campaigns/catalog';
import { ConflictError } from '../triggers/errors';
import { journeyWorkflowId, startJourney } from '../triggers/journeys';
import { MAX_REPORTED_FAILURES, type LapsedCustomer, type SweepActivities, type WinbackStartCounts } from '../shared/sweep-contracts';
import { heartbeat } from './heartbeat';
import type { JourneyDeps } from './journey';

type Verdict = 'started' | 'alreadyRunning' | 'alreadyRan';

const DEFAULT_CONCURRENCY = 8;

/** Runs `task` over `items` with at most `limit` in flight. */
async function forEachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export function sweepActivities(deps: JourneyDeps): SweepActivities {
  const { store } = deps;
  const { client, taskQueue, catalog } = deps.temporal;

  /**
   * One customer: a win-back that entered since the customer's last activity covers this lapse (running or
   * finished), so a churned customer is not enrolled again every day; otherwise start one (duplicate-safe).
   */
  async function startOne(customer: LapsedCustomer): Promise<Verdict> {
    const workflowId = journeyWorkflowId('winback', customer.id);
    const entered = await store.listOutcomes({ workflowId, status: 'entered', from: new Date(customer.lastActivityAt), limit: 1 });
    if (entered.length > 0) {
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING' ? 'alreadyRunning' : 'alreadyRan';
      } catch (err) {
        // Closed and past the namespace's retention: the outcome says it ran.
        if (err instanceof WorkflowNotFoundError) return 'alreadyRan';
        throw err;
      }
    }
    try {
      const result = await startJourney(client, catalog, taskQueue, { stage: 'winback', customerId: customer.id });
      return result.started ? 'started' : 'alreadyRunning';
    } catch (err) {
      if (err instanceof ConflictError) return 'alreadyRan';
      throw err;
    }
  }

  return {
    async winbackInactiveDays(): Promise<number> {
      const entry = campaignFor(catalog, 'winback');
      if (entry.definition.stage !== 'winback') throw new Error(`campaign ${entry.definition.id} is not a win-back campaign`);
      return entry.definition.inactiveDays;
    },

    async listLapsedCustomers({ before, afterId, limit }) {
      const rows = await store.listInactiveCustomers(new Date(before), limit, afterId);
      const customers = rows.map((c) => ({ id: c.id, lastActivityAt: c.lastActivityAt.getTime() }));
      return { customers, nextAfterId: customers.length === limit ? customers.at(-1)?.id : undefined };
    },

    async startWinbacks({ customers, concurrency = DEFAULT_CONCURRENCY }) {
      const counts: WinbackStartCounts = { started: 0, alreadyRunning: 0, alreadyRan: 0, failed: 0, failures: [] };
      await forEachBounded(customers, concurrency, async (customer) => {
        try {
          counts[await startOne(customer)]++;
        } catch (err) {
          // One customer's failure does not hold up the rest; tomorrow's sweep tries again.
          counts.failed++;
          if (counts.failures.length < MAX_REPORTED_FAILURES) counts.failures.push({ customerId: customer.id, error: (err as Error).message });
        }
        heartbeat({ done: counts.started + counts.alreadyRunning + counts.alreadyRan + counts.failed });
      });
      return counts;
    },
  };
}
