import { runBurst } from '../burst';
import { ChaosPostgres } from '../postgres';
import type { Scenario } from '../result';
import { progress, sleep } from '../util';

const DOWN_MS = 5000;

/** (5) The store is PostgreSQL, crashed (immediate stop) twice mid-burst and started again on the same data. */
export const postgresRestart: Scenario = {
  name: 'postgres-restart',
  description: 'PostgreSQL store crash-restart mid-burst (twice)',
  async run(ctx) {
    const pg = await ChaosPostgres.start();
    try {
      const databaseUrl = await pg.createDatabase('chaos_store');
      return await runBurst(ctx, {
        name: 'postgres-restart',
        deadlineMs: 300_000,
        databaseUrl,
        async fault(f) {
          for (const fraction of [0.3, 0.6]) {
            await f.whenReceived(fraction, 90_000);
            const at = f.received();
            const downAt = Date.now();
            await pg.crash();
            await sleep(DOWN_MS);
            await pg.up();
            f.openWindow('PostgreSQL down (ledger writes failing)', downAt, Date.now());
            const seconds = ((Date.now() - downAt) / 1000).toFixed(1);
            progress(`postgres-restart: PostgreSQL crashed after ${at} messages, back after ${seconds} s`);
            f.note(`PostgreSQL stopped -m immediate after ${at} messages received, accepting connections again after ${seconds} s`);
          }
        },
      });
    } finally {
      await pg.destroy();
    }
  },
};
