// The `retention report` command alone under the project's entry-point wrapper, as the CLI runs it (exit codes,
// one-line errors), independent of the main CLI file.
import { Command } from 'commander';
import { runMain } from '../../src/cli-errors';
import { registerReportCommand } from '../../src/triggers/cli/report';

runMain(async () => {
  const program = new Command('retention');
  registerReportCommand(program);
  await program.parseAsync(process.argv);
});
