import type { Command } from 'commander';

/** Placeholder: adds `retention report` (being written in parallel). */
export function registerReportCommand(program: Command): void {
  program.command('report').description('not available yet');
}
