#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { registerEventCommands } from './cli/events';
import { processIo, type CliIo, type CliRun } from './cli/io';
import { registerJourneyCommands } from './cli/journeys';
import { registerReportCommand } from './cli/report';
import { registerSampleCommands } from './cli/sample';
import { registerSchedulesCommand } from './cli/schedules';
import { registerSetupCommand } from './cli/setup';

/** `retention …`: the marketer's and operator's command line; every command has --help. */
export function buildCli(run: CliRun): Command {
  const program = new Command('retention')
    .description('Retention Orchestrator: start and steer retention campaigns (settings come from the environment, see README)')
    // Set before any subcommand exists: subcommands inherit them. Commander reports its own errors as CommanderError.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => run.io.stdout.write(text),
      writeErr: (text) => run.io.stderr.write(text),
    });
  registerJourneyCommands(program, run);
  registerEventCommands(program, run);
  registerSetupCommand(program, run);
  registerSchedulesCommand(program);
  registerReportCommand(program, {
    write: (text) => void run.io.stdout.write(text),
    databaseUrl: () => loadConfig(run.io.env).database.url,
  });
  registerSampleCommands(program, run);
  return program;
}

/**
 * Runs one command line (without the `node cli.js` prefix) and returns the exit code. Usage errors and --help end
 * here with commander's code; service errors (InvalidInputError, NotFoundError, ConflictError, ...) are thrown for
 * the caller: runMain prints them as one `error: …` line.
 */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const run: CliRun = { io: { ...processIo(), ...io }, exitCode: 0 };
  try {
    await buildCli(run).parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return run.exitCode;
}

if (require.main === module) {
  runMain(async () => {
    process.exitCode = await runCli(process.argv.slice(2));
  });
}
