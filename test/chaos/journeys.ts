import type { JourneyState } from '../../src/shared/journey-types';
import type { TemporalServer } from './temporal';

/** Ids of the running workflows of `type` on `taskQueue` (Temporal visibility; a moment behind the truth). */
export async function runningWorkflowIds(temporal: TemporalServer, taskQueue: string, type: string): Promise<Set<string>> {
  const client = await temporal.client();
  const ids = new Set<string>();
  const query = `WorkflowType = '${type}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
  await client.withDeadline(Date.now() + 20_000, async () => {
    for await (const info of client.workflow.list({ query, pageSize: 1000 })) ids.add(info.workflowId);
  });
  return ids;
}

/** How many workflows of `type` on `taskQueue` have closed (completed, failed, terminated...). Lag only undercounts. */
export async function closedWorkflowCount(temporal: TemporalServer, taskQueue: string, type: string): Promise<number> {
  const client = await temporal.client();
  const query = `WorkflowType = '${type}' AND ExecutionStatus != 'Running' AND TaskQueue = '${taskQueue}'`;
  return (await client.withDeadline(Date.now() + 20_000, () => client.workflow.count(query))).count;
}

/** The journey's own view (`journeyState` query), or undefined when it cannot answer now. */
export async function journeyState(temporal: TemporalServer, workflowId: string, timeoutMs = 5000): Promise<JourneyState | undefined> {
  const client = await temporal.client();
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(workflowId).query<JourneyState>('journeyState'));
  } catch {
    return undefined;
  }
}
