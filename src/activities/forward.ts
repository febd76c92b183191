import { WorkflowNotFoundError } from '@temporalio/client';
import type { ForwardActivities } from '../shared/activity-contracts';
import { customerEventSignal } from '../shared/messages';
import type { JourneyDeps } from './journey';

export function forwardActivities(deps: Pick<JourneyDeps, 'temporal'>): ForwardActivities {
  return {
    async forwardCustomerEvents({ workflowId, events }) {
      const handle = deps.temporal.client.workflow.getHandle(workflowId);
      let delivered = 0;
      for (const event of events) {
        try {
          await handle.signal(customerEventSignal, event);
        } catch (err) {
          // The journey ended (or never started): nothing is left to steer.
          if (err instanceof WorkflowNotFoundError) break;
          throw err;
        }
        delivered++;
      }
      return { delivered };
    },
  };
}
