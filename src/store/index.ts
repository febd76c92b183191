import { Migrator, sql, type Kysely } from 'kysely';
import { connect, redact } from './connect';
import { customerQueries } from './customers';
import { idempotencyQueries, type IdempotencyBegin, type StoredResponse } from './idempotency';
import { ledgerQueries, type SendClaim, type SendClaimResult, type SendCompletion } from './ledger';
import { messageStatusQueries } from './message-status';
import { migrationProvider } from './migrations';
import { outcomeQueries } from './outcomes';
import { pendingSignalQueries, type PendingSignal, type PendingSignalInput } from './pending-signals';
import { rateLimitQueries, type RateLimitWindow } from './rate-limits';
import type { Database, Dialect } from './schema';
import { suppressionQueries } from './suppressions';
import type {
  Channel,
  ConsentChange,
  ConsentProvenance,
  CustomerInput,
  CustomerProfile,
  FrequencyRequest,
  LedgerEntry,
  MessageStatus,
  OutcomeFilter,
  OutcomeRecord,
  SendKey,
  StoredOutcome,
} from './types';

export * from './types';
export type { Database, Dialect } from './schema';
export type { SendClaim, SendClaimResult, SendCompletion } from './ledger';
export type { IdempotencyBegin, StoredResponse } from './idempotency';
export type { PendingSignal, PendingSignalInput } from './pending-signals';
export type { RateLimitWindow } from './rate-limits';

/** Customers, consent, exactly-once send ledger, frequency cap, suppressions, delivery status and outcomes. */
export interface Store {
  readonly dialect: Dialect;
  /** The query layer itself, for read-only aggregations (reports) that the methods below do not cover. */
  readonly kysely: Kysely<Database>;
  /** Brings the schema to the latest version; a no-op when it already is. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  upsertCustomer(input: CustomerInput): Promise<CustomerProfile>;
  getCustomer(id: string): Promise<CustomerProfile | undefined>;
  findCustomersByPhone(phone: string, limit?: number): Promise<CustomerProfile[]>;
  setConsent(customerId: string, channel: Channel, granted: boolean, provenance: ConsentProvenance, at?: Date): Promise<CustomerProfile>;
  recordConsentChange(customerId: string, channel: Channel, granted: boolean, provenance: ConsentProvenance, at?: Date): Promise<void>;
  latestConsentChanges(customerId: string): Promise<Partial<Record<Channel, ConsentChange>>>;
  recordPurchase(customerId: string, amount: number, at: Date): Promise<CustomerProfile>;
  touchActivity(customerId: string, at: Date): Promise<CustomerProfile>;
  setPreferredChannel(customerId: string, channel: Channel): Promise<CustomerProfile>;
  updateLoyalty(customerId: string, change: { points?: number; tier?: string; totalSpend?: number }): Promise<CustomerProfile>;
  listInactiveCustomers(before: Date, limit: number, afterId?: string): Promise<CustomerProfile[]>;

  suppress(channel: Channel, address: string, reason: string): Promise<void>;
  unsuppress(channel: Channel, address: string, reasons: string[]): Promise<boolean>;
  isSuppressed(channel: Channel, address: string): Promise<boolean>;

  claimSend(claim: SendClaim): Promise<SendClaimResult>;
  beginTransport(key: SendKey, owner: string, until: Date, channel: Channel, now?: Date): Promise<boolean>;
  renewSend(key: SendKey, owner: string, until: Date, now?: Date): Promise<boolean>;
  releaseSend(key: SendKey, owner: string, options?: { transportDone?: boolean }): Promise<void>;
  completeSend(key: SendKey, completion: SendCompletion): Promise<LedgerEntry>;
  getSend(key: SendKey): Promise<LedgerEntry | undefined>;
  reserveFrequencySlot(request: FrequencyRequest): Promise<boolean>;
  frequencySlotFreesAt(request: Omit<FrequencyRequest, 'key'>): Promise<number>;
  releaseFrequencySlot(customerId: string, channel: Channel, key: string): Promise<void>;

  recordOutcome(outcome: OutcomeRecord): Promise<StoredOutcome>;
  recordFact(outcome: OutcomeRecord): Promise<{ outcome: StoredOutcome; created: boolean }>;
  listOutcomes(filter?: OutcomeFilter): Promise<StoredOutcome[]>;

  recordMessageStatus(
    providerMessageId: string,
    channel: Channel,
    status: MessageStatus,
    at: Date,
  ): Promise<{ changed: boolean; status: MessageStatus }>;
  getMessageStatus(providerMessageId: string): Promise<MessageStatus | undefined>;

  /** Idempotency-Key records and signed-webhook replay claims of the HTTP API, shared by its instances (idempotency.ts). */
  beginIdempotency(scope: string, key: string, requestHash: string, ttlMs: number, now?: Date): Promise<IdempotencyBegin>;
  completeIdempotency(scope: string, key: string, response: StoredResponse, ttlMs: number, now?: Date): Promise<void>;
  forgetIdempotency(scope: string, key: string): Promise<void>;
  claimSignature(signature: string, expiresAt: Date, now?: Date): Promise<boolean>;
  releaseSignature(signature: string): Promise<void>;

  /** Fixed-window counters of the HTTP API's rate limits, shared by its instances (rate-limits.ts). */
  hitRateLimit(limiter: string, key: string, windowMs: number, now?: Date): Promise<RateLimitWindow>;
  peekRateLimit(limiter: string, key: string, windowMs: number, now?: Date): Promise<RateLimitWindow>;

  /** The outbox of signals to journeys that could not be delivered when sent, shared by the API instances (pending-signals.ts). */
  enqueueSignal(input: PendingSignalInput, now?: Date): Promise<boolean>;
  claimSignals(owner: string, options: { limit: number; leaseMs: number }, now?: Date): Promise<PendingSignal[]>;
  completeSignal(id: number, owner: string, result: string, now?: Date): Promise<boolean>;
  retrySignal(id: number, owner: string, retry: { at: Date; error: string }, now?: Date): Promise<boolean>;
  listSignals(filter?: { status?: 'pending' | 'done'; kind?: string }): Promise<PendingSignal[]>;
}

/**
 * Opens the store at `databaseUrl`: `sqlite:<file>` (created with its folder if missing) or `postgres://...`.
 * Call `migrate()` before first use.
 */
export async function createStore(databaseUrl: string): Promise<Store> {
  const connection = connect(databaseUrl);
  const { db, dialect } = connection;
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the database ${redact(databaseUrl)}: ${detail}`, { cause: error });
  }
  return {
    dialect,
    kysely: db,
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        throw new Error(`database migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    },
    close: () => db.destroy(),
    ...customerQueries(connection),
    ...suppressionQueries(connection),
    ...ledgerQueries(connection),
    ...outcomeQueries(connection),
    ...messageStatusQueries(connection),
    ...idempotencyQueries(connection),
    ...rateLimitQueries(connection),
    ...pendingSignalQueries(connection),
  };
}
