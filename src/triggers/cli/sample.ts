import type { Command } from 'commander';
import { activateSample, sampleState, startSample } from '../sample';
import { printLine, withClient, type CliRun } from './io';

/** `retention sample …`: the foundation sample workflow (greeting + activation wait). */
export function registerSampleCommands(program: Command, run: CliRun): void {
  const sample = program.command('sample').description('the foundation sample workflow (greeting + activation wait)');
  sample
    .command('start')
    .description('start the sample workflow for one customer')
    .argument('<customerId>', 'customer id')
    .requiredOption('--name <name>', 'customer name used in the greeting')
    .option('--window <duration>', 'how long to wait for activation', '3 days')
    .option('--wait', 'wait for the workflow to finish and print its result')
    .action(async (customerId: string, opts: { name: string; window: string; wait?: boolean }) => {
      await withClient(run.io, async (client, config) => {
        const handle = await startSample(client, config.temporal.taskQueue, { customerId, name: opts.name, activationWindow: opts.window });
        printLine(run.io.stdout, `started ${handle.workflowId}`);
        if (opts.wait) printLine(run.io.stdout, JSON.stringify(await handle.result()));
      });
    });
  sample
    .command('activate')
    .description('send the activation event to a running sample workflow')
    .argument('<customerId>', 'customer id')
    .action(async (customerId: string) => {
      await withClient(run.io, async (client) => {
        await activateSample(client, customerId);
        printLine(run.io.stdout, JSON.stringify(await sampleState(client, customerId)));
      });
    });
}
