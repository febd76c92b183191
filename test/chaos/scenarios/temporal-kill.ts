import { runBurst, type FaultContext } from '../burst';
import type { Scenario } from '../result';
import { progress, sleep } from '../util';

/** The fault of both Temporal scenarios: SIGKILL after 30% of the messages arrived, started again 3 s later. */
export function killTemporalMidBurst(name: string, server: string, storage: string): (f: FaultContext) => Promise<void> {
  return async (f) => {
    await f.whenReceived(0.3, 90_000);
    const at = f.received();
    await f.temporal.process.kill();
    const downAt = Date.now();
    await sleep(3000);
    await f.temporal.process.start();
    const seconds = ((Date.now() - downAt) / 1000).toFixed(1);
    progress(`${name}: ${server} SIGKILLed after ${at} messages, back after ${seconds} s`);
    f.note(`${server} SIGKILLed after ${at} messages received, serving again after ${seconds} s (${storage})`);
  };
}

/** (2) The Temporal dev server is SIGKILLed mid-burst and started again on the same SQLite file and port. */
export const temporalKill: Scenario = {
  name: 'temporal-kill',
  description: 'Temporal dev server SIGKILL mid-burst, restarted on the same SQLite file',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'temporal-kill',
      deadlineMs: 300_000,
      fault: killTemporalMidBurst('temporal-kill', 'dev server', 'same SQLite file'),
    }),
};
