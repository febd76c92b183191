import type { Command } from 'commander';
import { loadCatalog } from '../../campaigns/catalog';
import { setupOptionsFor, setupTemporal } from '../setup';
import { printLine, withClient, type CliRun } from './io';
import { positiveInteger } from './options';

/** Adds `retention setup`: prepares the configured Temporal (namespace, search attributes, schedules) once per deploy. */
export function registerSetupCommand(program: Command, run: CliRun): void {
  program
    .command('setup')
    .description('prepare the configured Temporal for the product: namespace, search attributes, the win-back schedule (safe to repeat)')
    .option('--retention <days>', 'history retention of the namespace if it has to be created, in days (default 30)', positiveInteger(3650))
    .option('--json', 'print a JSON summary instead of lines')
    .addHelpText(
      'after',
      [
        '',
        'Run it once per deploy against any Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY);',
        'workers do not touch schedules. On Temporal Cloud, create the namespace in the Cloud console (or with',
        'tcld) first, and the search attributes too if the API key may not add them.',
      ].join('\n'),
    )
    .action(async (opts: { retention?: number; json?: boolean }) => {
      await withClient(run.io, async (client, config) => {
        const catalog = await loadCatalog(config.campaignsDir);
        const log = opts.json ? undefined : (line: string) => printLine(run.io.stdout, line);
        const summary = await setupTemporal(client, setupOptionsFor(config, catalog, { retentionDays: opts.retention }), log);
        if (opts.json) printLine(run.io.stdout, JSON.stringify(summary, null, 2));
      });
    });
}
