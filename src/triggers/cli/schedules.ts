import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Client } from '@temporalio/client';
import { loadCatalog } from '../../campaigns/catalog';
import { loadConfig, type AppConfig } from '../../config';
import { connectClient } from '../../shared/temporal-connection';
import { ensureSchedules, listSchedules, triggerSchedule } from '../schedules';

async function withClient(run: (client: Client, config: AppConfig) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  try {
    await run(client, config);
  } finally {
    await client.connection.close();
  }
}

function hourOfDay(value: string): number {
  const hour = Number(value);
  if (!/^\d{1,2}$/.test(value) || hour > 23) throw new InvalidArgumentError('expected an hour from 0 to 23');
  return hour;
}

/** Adds `retention schedules ensure|list|trigger`: the recurring triggers Temporal runs (the daily win-back sweep). */
export function registerSchedulesCommand(program: Command): void {
  const schedules = program.command('schedules').description('recurring triggers run by Temporal (the daily win-back sweep)');

  schedules
    .command('ensure')
    .description('create the schedules, or update them to the current campaign threshold and task queue (retention setup does this)')
    .option('--hour <hour>', 'hour of the day the win-back sweep runs (0-23; default WINBACK_SWEEP_HOUR, 6)', hourOfDay)
    .option('--timezone <tz>', 'IANA time zone of --hour (default WINBACK_SWEEP_TIMEZONE, UTC)')
    .action(async (opts: { hour?: number; timezone?: string }) => {
      await withClient(async (client, config) => {
        const catalog = await loadCatalog(config.campaignsDir);
        const ensured = await ensureSchedules(client, {
          taskQueue: config.temporal.taskQueue,
          catalog,
          sweepHour: opts.hour ?? config.schedules.sweepHour,
          timezone: opts.timezone ?? config.schedules.timezone,
        });
        for (const s of ensured) console.log(`${s.action} ${s.scheduleId}: ${s.description}`);
      });
    });

  schedules
    .command('list')
    .description('list the schedules with their next and recent runs')
    .option('--json', 'print JSON instead of lines')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const listed = await listSchedules(client);
        if (opts.json) {
          console.log(JSON.stringify(listed, null, 2));
          return;
        }
        if (listed.length === 0) console.log('no schedules (run `retention setup`)');
        for (const s of listed) {
          const last = s.recentActions.at(-1);
          console.log(
            `${s.scheduleId}${s.paused ? ' (paused)' : ''}: next ${s.nextActionTimes[0] ?? '-'}, last ${last ? `${last.takenAt} ${last.workflowId}` : '-'}` +
              (s.note ? `\n  ${s.note}` : ''),
          );
        }
      });
    });

  schedules
    .command('trigger')
    .description('run a schedule now (e.g. winback-sweep-daily)')
    .argument('<id>', 'schedule id')
    .option('--wait', 'wait for the started workflow to finish and print its result')
    .action(async (id: string, opts: { wait?: boolean }) => {
      await withClient(async (client) => {
        const { workflowId } = await triggerSchedule(client, id);
        console.log(workflowId ? `triggered ${id}: started ${workflowId}` : `triggered ${id} (the started workflow is not reported yet)`);
        if (opts.wait && workflowId) console.log(JSON.stringify(await client.workflow.getHandle(workflowId).result(), null, 2));
      });
    });
}
