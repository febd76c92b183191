import { runBurst } from '../burst';
import type { Scenario } from '../result';
import { progress, waitUntil } from '../util';

/** (1) The worker is SIGKILLed twice mid-burst and restarted (by the keeper, as a process manager would). */
export const workerKill: Scenario = {
  name: 'worker-kill',
  description: 'worker SIGKILL mid-burst (twice), restarted',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'worker-kill',
      deadlineMs: 300_000,
      async fault(f) {
        for (const fraction of [0.2, 0.5]) {
          await f.whenReceived(fraction, 60_000);
          const at = f.received();
          await f.stack.worker.kill();
          progress(`worker-kill: worker SIGKILLed after ${at} messages`);
          f.note(`worker SIGKILLed after ${at} messages received`);
          // The keeper brings it back (as a process manager would) before the next kill.
          await waitUntil(() => f.stack.worker.ready, 90_000);
        }
      },
    }),
};
