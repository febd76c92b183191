import type { Command } from 'commander';
import { UserFacingError } from '../../cli-errors';
import { loadConfig } from '../../config';
import { computeReport } from '../../reports/compute';
import { formatCsv, formatTable } from '../../reports/format';
import { parseReportOptions, ReportOptionError, REPORT_FORMATS, type RawReportOptions } from '../../reports/query';
import { REPORT_STAGES } from '../../reports/types';
import { createStore } from '../../store';

/** Where the report's text goes; the default is stdout (tests pass their own). */
export interface ReportCommandIo {
  write(text: string): void;
  databaseUrl?: () => string;
}

/**
 * `retention report`: retention, purchase, value, win-back, satisfaction, complaint and campaign-lift figures for
 * a period, read from the outcome store (DATABASE_URL). JSON output is the Report object of src/reports/types.ts.
 * A bad option ends as a one-line error naming it (exit code 1 through runMain).
 */
export function registerReportCommand(program: Command, io: ReportCommandIo = { write: (text) => process.stdout.write(text) }): void {
  program
    .command('report')
    .description('retention metrics and campaign lift for a period, from the outcome store')
    .option('--from <date>', 'start of the period, inclusive (2025-01-31 or an ISO date-time; default: 90 days before --to)')
    .option('--to <date>', 'end of the period, exclusive (default: now)')
    .option('--stage <stage>', `only this stage: ${REPORT_STAGES.join(', ')}`)
    .option('--campaign <id>', 'only this campaign id')
    .option('--variant <name>', 'only this variant')
    .option('--tier <tier>', 'only customers of this (current) loyalty tier')
    .option('--format <format>', `output: ${REPORT_FORMATS.join(', ')}`, 'table')
    .action(async (raw: RawReportOptions) => {
      let parsed: ReturnType<typeof parseReportOptions>;
      try {
        parsed = parseReportOptions(raw);
      } catch (err) {
        if (err instanceof ReportOptionError) throw new UserFacingError(`--${err.option}: ${err.problem}`);
        throw err;
      }
      const url = io.databaseUrl?.() ?? loadConfig().database.url;
      const store = await createStore(url);
      try {
        await store.migrate();
        const report = await computeReport(store, parsed.query);
        if (parsed.format === 'json') io.write(`${JSON.stringify(report, null, 2)}\n`);
        else if (parsed.format === 'csv') io.write(formatCsv(report));
        else io.write(formatTable(report));
      } finally {
        await store.close();
      }
    });
}
