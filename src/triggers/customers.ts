import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { TIME_ZONE_NAMES } from '../shared/time-zone';
import { CHANNELS, CustomerInputSchema, type Channel, type ConsentProvenance, type CustomerInput, type CustomerProfile, type Store } from '../store';
import type { TriggerContext } from './context';
import { recordCustomerEvent } from './customer-events';
import { parseHeader, SegmentFormatError, validateRecord } from './csv-segment';
import { InvalidInputError, NotFoundError, parseInput } from './errors';
import { deliverOrKeep } from './pending-signals';

const field = CustomerInputSchema.shape;

export const CustomerIdSchema = field.id;

/**
 * The profile fields a caller may set. None has a default here: an update writes only the fields sent and the
 * store keeps the rest (new customers get the store's defaults). The name is required only for a new customer.
 */
export const CustomerProfileFieldsSchema = z.strictObject({
  name: field.name.max(200).optional(),
  email: field.email,
  phone: field.phone,
  timezone: field.timezone
    .unwrap()
    .meta({ enum: [...TIME_ZONE_NAMES], description: 'an IANA time zone (older aliases such as Asia/Calcutta are accepted too)' })
    .optional(),
  locale: field.locale.unwrap().optional(),
  tier: field.tier.unwrap().max(50).optional(),
  points: field.points.unwrap().optional(),
  totalSpend: field.totalSpend.unwrap().optional(),
  preferredChannel: field.preferredChannel.unwrap().optional(),
  consentEmail: field.consentEmail.unwrap().optional(),
  consentSms: field.consentSms.unwrap().optional(),
  lastActivityAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2026-01-31T09:00:00Z' }).optional(),
});
export type CustomerProfileFields = z.infer<typeof CustomerProfileFieldsSchema>;

/** One profile of an import batch: the profile fields plus the customer id. */
export const ImportedProfileSchema = CustomerProfileFieldsSchema.extend({ id: CustomerIdSchema });

export const ConsentChangeSchema = z
  .strictObject({ email: z.boolean().optional(), sms: z.boolean().optional() })
  .refine((change) => change.email !== undefined || change.sms !== undefined, { message: 'expected email and/or sms (true or false)' })
  // What the refinement checks, for the OpenAPI document (no other property is allowed).
  .meta({ minProperties: 1 });
export type ConsentChange = z.infer<typeof ConsentChangeSchema>;

/** Most profiles one import may carry; larger sets go in several batches (or `retention start --csv`). */
export const MAX_IMPORT_ROWS = 5000;

export interface Issue {
  path: string;
  message: string;
}

export interface UpsertedCustomer {
  customer: CustomerProfile;
  created: boolean;
}

export async function getCustomerProfile(store: Store, rawId: unknown): Promise<CustomerProfile> {
  const id = parseInput(CustomerIdSchema, rawId, 'customer id');
  const customer = await store.getCustomer(id);
  if (!customer) throw new NotFoundError(`unknown customer ${id}`);
  return customer;
}

/** Adds the customer, or updates the fields given; `created` says which. */
export async function upsertCustomerProfile(ctx: TriggerContext, rawId: unknown, rawFields: unknown, provenance: ConsentProvenance): Promise<UpsertedCustomer> {
  const id = parseInput(CustomerIdSchema, rawId, 'customer id');
  const fields = parseInput(CustomerProfileFieldsSchema, rawFields, 'customer profile');
  // A change to a customer that does not exist, without the name that would add it: nothing to change.
  if (fields.name === undefined && !(await ctx.store.getCustomer(id))) throw new NotFoundError(`no customer ${JSON.stringify(id)}: send its name to add it`);
  return saveProfile(ctx, id, fields, provenance);
}

/**
 * Upserts a profile and keeps each consent change it makes with `provenance`: an update or import may withdraw
 * consent, or grant one the customer never withdrew (see the store's upsertCustomer). `before` is the stored profile.
 * A known customer's running journeys are told of each change, as of the customer's own unsubscribe or resubscribe
 * (kept in the outbox while Temporal does not answer).
 */
export async function upsertCustomerWithProvenance(
  ctx: Pick<TriggerContext, 'store' | 'client' | 'catalog' | 'taskQueue'>,
  input: CustomerInput,
  before: CustomerProfile | undefined,
  provenance: ConsentProvenance,
): Promise<CustomerProfile> {
  const saved = await ctx.store.upsertCustomer(input);
  const consentOf = (profile: CustomerProfile | undefined, channel: Channel) => (channel === 'email' ? profile?.consentEmail : profile?.consentSms) ?? false;
  for (const channel of CHANNELS) {
    const granted = consentOf(saved, channel);
    if (granted === consentOf(before, channel)) continue;
    const at = new Date();
    await ctx.store.recordConsentChange(saved.id, channel, granted, provenance, at);
    // A new customer has no journey yet.
    if (!before) continue;
    const event = { type: granted ? 'resubscribe' : 'unsubscribe', channel, eventId: `consent:${channel}:${at.getTime()}` } as const;
    await deliverOrKeep(ctx, { kind: 'customer-event', customerId: saved.id, event });
  }
  return saved;
}

async function saveProfile(ctx: TriggerContext, id: string, fields: CustomerProfileFields, provenance: ConsentProvenance): Promise<UpsertedCustomer> {
  const existing = await ctx.store.getCustomer(id);
  const name = fields.name ?? existing?.name;
  if (name === undefined) {
    throw new InvalidInputError('customer profile', [{ path: 'name', message: `required to add the new customer ${JSON.stringify(id)}` }]);
  }
  const input: CustomerInput = {
    ...fields,
    id,
    name,
    lastActivityAt: fields.lastActivityAt === undefined ? undefined : new Date(fields.lastActivityAt),
  };
  const customer = await upsertCustomerWithProvenance(ctx, input, existing, provenance);
  return { customer, created: !existing };
}

/**
 * Sets consent for the channels given (the other keeps its value) as an unsubscribe/resubscribe customer event, so
 * running journeys hear of it too (an onboarding with onUnsubscribe "end" stops) and not only the next send's
 * consent check. The change is kept with `provenance`.
 */
export async function setCustomerConsent(ctx: TriggerContext, rawId: unknown, rawChange: unknown, provenance: ConsentProvenance): Promise<CustomerProfile> {
  const customer = await getCustomerProfile(ctx.store, rawId);
  const change = parseInput(ConsentChangeSchema, rawChange, 'consent');
  for (const channel of ['email', 'sms'] as const) {
    const granted = change[channel];
    if (granted === undefined) continue;
    await recordCustomerEvent(ctx, customer.id, { type: granted ? 'resubscribe' : 'unsubscribe', channel }, new Date(), {}, provenance);
  }
  return getCustomerProfile(ctx.store, customer.id);
}

/** Where a rejected profile was: its index in a JSON batch or its line in a CSV file. */
export interface ImportRejection {
  index?: number;
  line?: number;
  id?: string;
  issues: Issue[];
}

export interface ImportSummary {
  imported: number;
  created: number;
  updated: number;
  rejected: ImportRejection[];
}

interface ImportRow {
  at: { index: number } | { line: number };
  id?: string;
  /** The profile as sent, or why it cannot be read at all. */
  profile: unknown;
  issues?: Issue[];
}

function checkBatchSize(rows: number): void {
  if (rows === 0) throw new InvalidInputError('import', [{ path: 'rows', message: 'expected at least one customer profile' }]);
  if (rows > MAX_IMPORT_ROWS) {
    throw new InvalidInputError('import', [{ path: 'rows', message: `at most ${MAX_IMPORT_ROWS} profiles per import, got ${rows}: split the file` }]);
  }
}

function idOf(profile: unknown): string | undefined {
  const id = (profile as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Validates every profile and saves the valid ones (one bad row does not stop the rest); each rejection names
 * the row and its bad fields.
 */
/** `provenance` is the import's; each row's consent change also names its row (index or line). */
async function importRows(ctx: TriggerContext, rows: ImportRow[], provenance: ConsentProvenance): Promise<ImportSummary> {
  checkBatchSize(rows.length);
  const summary: ImportSummary = { imported: 0, created: 0, updated: 0, rejected: [] };
  for (const row of rows) {
    const reject = (issues: Issue[]) => summary.rejected.push({ ...row.at, id: row.id, issues });
    if (row.issues) {
      reject(row.issues);
      continue;
    }
    const parsed = ImportedProfileSchema.safeParse(row.profile);
    if (!parsed.success) {
      reject(InvalidInputError.fromZod('profile', parsed.error).issues);
      continue;
    }
    const { id, ...fields } = parsed.data;
    try {
      const where = 'index' in row.at ? `row ${row.at.index}` : `line ${row.at.line}`;
      const rowProvenance = { ...provenance, evidence: provenance.evidence ? `${provenance.evidence}, ${where}` : where };
      const { created } = await saveProfile(ctx, id, fields, rowProvenance);
      summary.imported++;
      if (created) summary.created++;
      else summary.updated++;
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      reject(err.issues);
    }
  }
  return summary;
}

/** Imports a JSON batch: an array of profiles, each with its `id`. */
export async function importCustomers(ctx: TriggerContext, profiles: unknown, provenance: ConsentProvenance): Promise<ImportSummary> {
  if (!Array.isArray(profiles)) throw new InvalidInputError('import', [{ path: 'rows', message: 'expected an array of customer profiles' }]);
  return importRows(
    ctx,
    profiles.map((profile, index) => ({ at: { index }, id: idOf(profile), profile })),
    provenance,
  );
}

/**
 * Imports a CSV batch with a header row: `customer_id` plus profile columns (name, email, phone, timezone, locale,
 * tier, preferred_channel, consent_email, consent_sms), the same format as `retention start --csv`.
 */
export async function importCustomersCsv(ctx: TriggerContext, text: string, provenance: ConsentProvenance): Promise<ImportSummary> {
  const unreadable: ImportRow[] = [];
  const records = parse(text, {
    bom: true,
    info: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      unreadable.push({ at: { line: Number(err?.lines ?? 0) }, profile: undefined, issues: [{ path: '(row)', message: `unreadable CSV: ${err?.message ?? 'malformed record'}` }] });
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];
  const [header, ...data] = records;
  if (!header) throw new InvalidInputError('CSV import', [{ path: 'header', message: 'no header row (expected customer_id and profile columns)' }]);
  let columns: string[];
  try {
    columns = parseHeader(header.record, 'CSV');
  } catch (err) {
    if (err instanceof SegmentFormatError) throw new InvalidInputError('CSV import', [{ path: 'header', message: err.message.replace(/^CSV: /, '') }]);
    throw err;
  }
  checkBatchSize(data.length + unreadable.length);
  const rows: ImportRow[] = data.map(({ record, info }) => {
    const row = validateRecord(columns, record, info.lines);
    if (row.kind === 'reject') return { at: { line: row.line }, id: row.customerId, profile: undefined, issues: row.reasons.map(reasonToIssue) };
    return { at: { line: row.line }, id: row.customerId, profile: { ...row.profile, id: row.customerId } };
  });
  rows.push(...unreadable);
  return importRows(ctx, rows, provenance);
}

/** csv-segment's reasons read `column: message`. */
function reasonToIssue(reason: string): Issue {
  const at = reason.indexOf(': ');
  return at > 0 && !reason.slice(0, at).includes(' ') ? { path: reason.slice(0, at), message: reason.slice(at + 2) } : { path: '(row)', message: reason };
}
