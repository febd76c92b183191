import { createReadStream } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { UserFacingError } from '../cli-errors';
import { CustomerInputSchema, type CustomerInput } from '../store/types';

/**
 * A customer segment as CSV: a header row with `customer_id` and optionally profile columns. A row with profile
 * values upserts the customer before its journey starts; a row with only an id needs the customer to exist.
 */
const PROFILE_FIELDS = {
  name: 'name',
  email: 'email',
  phone: 'phone',
  timezone: 'timezone',
  locale: 'locale',
  tier: 'tier',
  preferred_channel: 'preferredChannel',
  consent_email: 'consentEmail',
  consent_sms: 'consentSms',
} as const satisfies Record<string, keyof CustomerInput>;

type ProfileColumn = keyof typeof PROFILE_FIELDS;
const ID_COLUMN = 'customer_id';
export const SEGMENT_COLUMNS: readonly string[] = [ID_COLUMN, ...Object.keys(PROFILE_FIELDS)];
const COLUMN_OF_FIELD = new Map<string, string>([['id', ID_COLUMN], ...Object.entries(PROFILE_FIELDS).map(([c, f]) => [f, c] as [string, string])]);
const BOOLEAN_COLUMNS = new Set<ProfileColumn>(['consent_email', 'consent_sms']);
const TRUE_WORDS = new Set(['true', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0']);

/** A name may be left out when the row only updates a known customer; the store's schema does the rest. */
const SegmentProfileSchema = CustomerInputSchema.partial({ name: true });

/** Profile fields as written in the row (only the non-empty cells), ready for `store.upsertCustomer`. */
export type SegmentProfile = Omit<CustomerInput, 'name'> & { name?: string };

export type SegmentRow =
  | { kind: 'row'; line: number; customerId: string; profile?: SegmentProfile; raw?: string }
  | { kind: 'reject'; line: number; customerId?: string; reasons: string[]; raw?: string };

export class SegmentFormatError extends UserFacingError {
  override name = 'SegmentFormatError';
}

/** Checks the header: `customer_id` present, every other column known, none twice. */
export function parseHeader(header: string[], file: string): string[] {
  const columns = header.map((c) => c.trim().toLowerCase());
  const seen = new Set<string>();
  for (const column of columns) {
    if (!SEGMENT_COLUMNS.includes(column)) {
      throw new SegmentFormatError(`${file}: unknown column "${column}" in the header (expected ${SEGMENT_COLUMNS.join(', ')})`);
    }
    if (seen.has(column)) throw new SegmentFormatError(`${file}: column "${column}" appears twice in the header`);
    seen.add(column);
  }
  if (!seen.has(ID_COLUMN)) throw new SegmentFormatError(`${file}: the header has no ${ID_COLUMN} column (got ${columns.join(', ')})`);
  return columns;
}

/** Validates one data record against the header; reasons name the offending column. */
export function validateRecord(columns: string[], cells: string[], line: number, raw?: string): SegmentRow {
  const customerIdCell = cells[columns.indexOf(ID_COLUMN)]?.trim();
  const customerId = customerIdCell || undefined;
  if (cells.length !== columns.length) {
    return { kind: 'reject', line, customerId, raw, reasons: [`expected ${columns.length} columns (${columns.join(',')}), got ${cells.length}`] };
  }
  const reasons: string[] = [];
  const input: Record<string, unknown> = { id: customerIdCell ?? '' };
  let hasProfile = false;
  columns.forEach((column, i) => {
    const cell = (cells[i] ?? '').trim();
    if (column === ID_COLUMN || cell === '') return;
    hasProfile = true;
    const field = PROFILE_FIELDS[column as ProfileColumn];
    if (BOOLEAN_COLUMNS.has(column as ProfileColumn)) {
      const word = cell.toLowerCase();
      if (TRUE_WORDS.has(word)) input[field] = true;
      else if (FALSE_WORDS.has(word)) input[field] = false;
      else reasons.push(`${column}: expected true or false, got ${JSON.stringify(cell)}`);
      return;
    }
    input[field] = cell;
  });
  const schema = hasProfile ? SegmentProfileSchema : SegmentProfileSchema.pick({ id: true });
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'id');
      reasons.push(`${COLUMN_OF_FIELD.get(field) ?? field}: ${issue.message}`);
    }
  }
  if (reasons.length > 0) return { kind: 'reject', line, customerId, raw, reasons };
  return { kind: 'row', line, customerId: customerIdCell as string, profile: hasProfile ? (input as SegmentProfile) : undefined, raw };
}

/** The first line of a record that may span lines (quoted newlines): csv-parse reports where it ended. */
function startLine(endLine: number, raw: string | undefined): number {
  const body = (raw ?? '').replace(/\r?\n$/, '');
  return endLine - (body.match(/\n/g)?.length ?? 0);
}

/**
 * Streams the segment row by row (the file is never held in memory). Records the CSV parser cannot read (broken
 * quoting) come out as rejects too; with `relax_quotes` a stray quote stays inside its cell, so parsing recovers
 * at the next line. Throws SegmentFormatError for a missing or bad header.
 */
export async function* readSegment(file: string): AsyncGenerator<SegmentRow> {
  const unreadable: SegmentRow[] = [];
  const source = createReadStream(file);
  const parser = source.pipe(
    parse({
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        const line = startLine(Number((err as { lines?: number } | undefined)?.lines ?? 0), raw);
        unreadable.push({ kind: 'reject', line, raw, reasons: [`unreadable CSV: ${err?.message ?? 'malformed record'}`] });
        return undefined;
      },
    }),
  );
  // pipe() does not forward the file's errors (missing, unreadable): fail the parse with them.
  source.once('error', (err) => parser.destroy(err));
  let columns: string[] | undefined;
  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      yield* unreadable.splice(0);
      if (!columns) {
        columns = parseHeader(record, file);
        continue;
      }
      yield validateRecord(columns, record, startLine(info.lines, raw), raw);
    }
    yield* unreadable.splice(0);
    if (!columns) throw new SegmentFormatError(`${file}: no header row (expected ${ID_COLUMN} and optional profile columns)`);
  } finally {
    parser.destroy();
    source.destroy();
  }
}

/** Data rows in the file, counted cheaply by newlines (for the progress bar; quoted newlines make it an estimate). */
export async function countDataLines(file: string): Promise<number> {
  let newlines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  const lines = newlines + (last === 10 ? 0 : 1);
  return Math.max(0, lines - 1);
}
