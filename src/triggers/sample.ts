import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { activatedSignal, SampleInputSchema, sampleStateQuery, type SampleState } from '../shared/sample-messages';
import { CustomerIdKey, LifecycleStageKey } from '../shared/search-attributes';
import { zodErrorLines } from '../shared/zod-errors';
import { UserFacingError } from '../cli-errors';
import type { sampleWorkflow } from '../workflows';

export const sampleWorkflowId = (customerId: string) => `sample-${customerId}`;

/** Starts the sample workflow for one customer; a second start for the same customer is refused, not duplicated. */
export async function startSample(client: Client, taskQueue: string, rawInput: unknown) {
  const parsed = SampleInputSchema.safeParse(rawInput);
  if (!parsed.success) throw new UserFacingError(`invalid sample input: ${zodErrorLines(parsed.error).join('; ')}`);
  const input = parsed.data;
  try {
    return await client.workflow.start<typeof sampleWorkflow>('sampleWorkflow', {
      taskQueue,
      workflowId: sampleWorkflowId(input.customerId),
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: CustomerIdKey, value: input.customerId },
        { key: LifecycleStageKey, value: 'sample' },
      ],
      memo: { summary: `Sample greeting for ${input.name}` },
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserFacingError(`a sample workflow is already running for customer ${input.customerId} (id ${err.workflowId}).`);
    }
    throw err;
  }
}

export async function activateSample(client: Client, customerId: string): Promise<void> {
  await client.workflow.getHandle(sampleWorkflowId(customerId)).signal(activatedSignal);
}

export async function sampleState(client: Client, customerId: string): Promise<SampleState> {
  return client.workflow.getHandle(sampleWorkflowId(customerId)).query(sampleStateQuery);
}
