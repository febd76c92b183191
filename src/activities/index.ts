import { forwardActivities } from './forward';
import { journeyActivities, type JourneyDeps } from './journey';
import { sweepActivities } from './sweep';

/** The foundation sample's activity: no dependencies. */
export const sampleActivities = {
  async composeGreeting(name: string): Promise<string> {
    return `Welcome aboard, ${name}!`;
  },
};

/** Every activity the worker registers; side effects reach the outside world only through `deps`. */
export function createActivities(deps: JourneyDeps) {
  return { ...sampleActivities, ...journeyActivities(deps), ...forwardActivities(deps), ...sweepActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export type { JourneyDeps } from './journey';
