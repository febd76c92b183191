import type { Duration } from '@temporalio/common';
import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { activatedSignal, sampleStateQuery, type SampleInput, type SampleState } from '../shared/sample-messages';
import { OutcomeKey } from '../shared/search-attributes';

const { composeGreeting } = proxyActivities<ReturnType<typeof createActivities>>({ startToCloseTimeout: '10 seconds' });

/**
 * The foundation's end-to-end path: greet a customer, then wait up to the activation window for the
 * `activated` signal. The lifecycle stages build on the same pieces.
 */
export async function sampleWorkflow(input: SampleInput): Promise<SampleState> {
  const state: SampleState = { activated: false, outcome: 'waiting' };
  setHandler(sampleStateQuery, () => state);
  setHandler(activatedSignal, () => {
    state.activated = true;
  });

  state.greeting = await composeGreeting(input.name);
  const activated = await condition(() => state.activated, input.activationWindow as Duration);
  state.outcome = activated ? 'activated' : 'timed-out';
  upsertSearchAttributes([{ key: OutcomeKey, value: state.outcome }]);
  return state;
}
