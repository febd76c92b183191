import { z } from 'zod';
import { REPORT_STAGES, type ReportQuery } from './types';

export const REPORT_FORMATS = ['table', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Period used when `from` is not given (CLI and page alike): the 90 days before `to`. */
export const DEFAULT_PERIOD_MS = 90 * 86_400_000;

/**
 * The longest period a report covers: ten years, at most 121 monthly trend buckets. Without a bound, from=0001 to=9999
 * builds a bucket expression with about 100,000 arms and holds the event loop.
 */
export const MAX_PERIOD_MS = 3_653 * 86_400_000;

/** Why a period is not reportable (reversed or too long), or undefined when it is. */
export function periodProblem(from: Date, to: Date): string | undefined {
  if (from.getTime() >= to.getTime()) return `must be before to (${from.toISOString()} is not before ${to.toISOString()})`;
  if (to.getTime() - from.getTime() > MAX_PERIOD_MS) return `expected a period of at most 10 years (${from.toISOString()} to ${to.toISOString()} is longer)`;
  return undefined;
}

/** A bad report option; `option` is its name as the caller spelt it (without dashes). */
export class ReportOptionError extends Error {
  override name = 'ReportOptionError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${option}: ${problem}`);
  }
}

const DATE_PATTERN = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?)?$/;
const DATE_HINT = 'expected a date such as 2025-01-31 or 2025-01-31T12:00:00Z';

/** `YYYY-MM-DD` (UTC midnight) or an ISO 8601 date-time (UTC unless it names an offset); no rolled-over dates. */
export function parseReportDate(text: string): Date | undefined {
  const match = DATE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, day, time, offset] = match as unknown as [string, string, string | undefined, string | undefined];
  const date = new Date(`${day}T${time ?? '00:00'}${offset ?? 'Z'}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // JavaScript rolls 2025-02-30 over to March 2: refuse dates whose calendar day does not exist.
  if (new Date(`${day}T00:00Z`).toISOString().slice(0, 10) !== day) return undefined;
  return date;
}

const optionalText = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `expected ${what}`)
    .optional();

const OptionsSchema = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  stage: z.enum(REPORT_STAGES, { message: `expected one of ${REPORT_STAGES.join(', ')}` }).optional(),
  campaign: optionalText('a campaign id'),
  variant: optionalText('a variant name'),
  tier: optionalText('a tier name'),
  format: z.enum(REPORT_FORMATS, { message: `expected one of ${REPORT_FORMATS.join(', ')}` }).default('table'),
});

export type RawReportOptions = z.input<typeof OptionsSchema>;

/**
 * Validates report options as given on the command line or in a query string: dates, `from` < `to`, a known
 * stage and format. Without `to` the period ends now; without `from` it starts DEFAULT_PERIOD_MS earlier.
 * Throws ReportOptionError naming the first bad option.
 */
export function parseReportOptions(raw: RawReportOptions, now: Date = new Date()): { query: ReportQuery; format: ReportFormat } {
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const option = String(issue.path[0] ?? 'options');
    const given = (raw as Record<string, unknown>)[option];
    throw new ReportOptionError(option, `${issue.message}${typeof given === 'string' ? `, got ${JSON.stringify(given)}` : ''}`);
  }
  const options = parsed.data;
  const date = (option: 'from' | 'to', text: string | undefined): Date | undefined => {
    if (text === undefined) return undefined;
    const value = parseReportDate(text);
    if (!value) throw new ReportOptionError(option, `${DATE_HINT}, got ${JSON.stringify(text)}`);
    return value;
  };
  const to = date('to', options.to) ?? now;
  const from = date('from', options.from) ?? new Date(to.getTime() - DEFAULT_PERIOD_MS);
  const problem = periodProblem(from, to);
  if (problem) throw new ReportOptionError('from', problem);
  const query: ReportQuery = { from, to };
  if (options.stage) query.stage = options.stage;
  if (options.campaign) query.campaignId = options.campaign;
  if (options.variant) query.variant = options.variant;
  if (options.tier) query.tier = options.tier;
  return { query, format: options.format };
}
