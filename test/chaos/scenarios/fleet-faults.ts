import { runBurst } from '../burst';
import type { Scenario } from '../result';
import { progress } from '../util';
import { killTemporalMidBurst } from './temporal-kill';

/** (fleet) One of the two workers is SIGKILLed mid-burst and stays dead: the other finishes every journey. */
export const fleetWorkerKill: Scenario = {
  name: 'fleet-worker-kill',
  description: 'fleet (PostgreSQL-backed Temporal, 2 workers, 2 APIs): one worker SIGKILLed mid-burst, not restarted',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'fleet-worker-kill',
      fleet: true,
      deadlineMs: 300_000,
      async fault(f) {
        await f.whenReceived(0.3, 90_000);
        const at = f.received();
        const [victim, survivor] = f.stack.workers;
        await victim?.kill();
        progress(`fleet-worker-kill: ${victim?.name} SIGKILLed after ${at} messages; ${survivor?.name} carries on alone`);
        f.note(`${victim?.name} SIGKILLed after ${at} messages received and left dead; ${survivor?.name} finished the burst`);
      },
    }),
};

/** (fleet) The Temporal server process is SIGKILLed mid-burst and started again on the same PostgreSQL databases. */
export const fleetTemporalRestart: Scenario = {
  name: 'fleet-temporal-restart',
  description: 'fleet: the PostgreSQL-backed Temporal server SIGKILLed mid-burst, started again 3 s later',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'fleet-temporal-restart',
      fleet: true,
      deadlineMs: 300_000,
      fault: killTemporalMidBurst('fleet-temporal-restart', 'Temporal server', 'same PostgreSQL'),
    }),
};
