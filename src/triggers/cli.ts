#!/usr/bin/env node
import { Command } from 'commander';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { connectClient } from '../shared/temporal-connection';
import { activateSample, sampleState, startSample } from './sample';

/** `retention …`: the marketer's and operator's command line; every command has --help. */
export function buildCli(): Command {
  const program = new Command('retention').description('Retention Orchestrator: start and steer retention campaigns');

  const sample = program.command('sample').description('the foundation sample workflow (greeting + activation wait)');
  sample
    .command('start')
    .description('start the sample workflow for one customer')
    .argument('<customerId>', 'customer id')
    .requiredOption('--name <name>', 'customer name used in the greeting')
    .option('--window <duration>', 'how long to wait for activation', '3 days')
    .option('--wait', 'wait for the workflow to finish and print its result')
    .action(async (customerId: string, opts: { name: string; window: string; wait?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const handle = await startSample(client, config.temporal.taskQueue, {
        customerId,
        name: opts.name,
        activationWindow: opts.window,
      });
      console.log(`started ${handle.workflowId}`);
      if (opts.wait) console.log(JSON.stringify(await handle.result()));
      await client.connection.close();
    });
  sample
    .command('activate')
    .description('send the activation event to a running sample workflow')
    .argument('<customerId>', 'customer id')
    .action(async (customerId: string) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      await activateSample(client, customerId);
      console.log(JSON.stringify(await sampleState(client, customerId)));
      await client.connection.close();
    });
  return program;
}

if (require.main === module) {
  runMain(async () => {
    await buildCli().parseAsync(process.argv);
  });
}
