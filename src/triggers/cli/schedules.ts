import type { Command } from 'commander';

/** Placeholder: adds `retention schedules` (being written in parallel). */
export function registerSchedulesCommand(program: Command): void {
  program.command('schedules').description('not available yet');
}
