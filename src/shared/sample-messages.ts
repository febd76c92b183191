import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';

/** Input of the sample workflow, validated by the trigger before anything starts. */
export const SampleInputSchema = z.object({
  customerId: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'expected 1-64 letters, digits or _.@-'),
  name: z.string().min(1).max(100),
  activationWindow: z.string().regex(/^\d+\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/).default('3 days'),
});
export type SampleInput = z.infer<typeof SampleInputSchema>;

export interface SampleState {
  greeting?: string;
  activated: boolean;
  outcome: 'waiting' | 'activated' | 'timed-out';
}

export const activatedSignal = defineSignal('activated');
export const sampleStateQuery = defineQuery<SampleState>('sampleState');
