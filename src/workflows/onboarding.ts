import type { JourneyInput, JourneyResult } from '../shared/journey-types';
import { Journey, runJourney } from './journey';

/**
 * Onboarding, from signup: welcome now, then tips spaced by the definition. Activation ends it early as
 * converted; either way the customer is handed to nurture, so nobody is left in no stage.
 */
export async function onboardingWorkflow(input: JourneyInput): Promise<JourneyResult> {
  return runJourney(input, 'onboarding', onboarding);
}

async function onboarding(journey: Journey<'onboarding'>): Promise<JourneyResult> {
  const { steps, finalWait } = journey.definition;
  const exited = () => journey.activated || journey.stopRequested;

  for (const [index, step] of steps.entries()) {
    // The welcome goes out even if activation raced ahead of it; later tips stop at activation.
    const stop = index === 0 ? () => journey.stopRequested : exited;
    if (await journey.waitFor(step.after, stop)) break;
    await journey.send(step);
  }
  await journey.waitFor(finalWait, exited);

  if (journey.stopRequested && !journey.activated) {
    await journey.handOff('nurture', 'unsubscribed during onboarding');
    return journey.finish('unsubscribed');
  }
  const outcome = journey.activated ? 'converted' : 'completed';
  await journey.handOff('nurture', `onboarding ${outcome}`);
  return journey.finish(outcome);
}
