import type { Generated } from 'kysely';

/**
 * Row types as stored. Conventions shared by both dialects: timestamps are epoch milliseconds (bigint in
 * PostgreSQL, INTEGER in SQLite), booleans are 0/1 integers, money and measurements are double precision,
 * free-form data is JSON text. The store's API converts to Date/boolean at the edge.
 */
export interface CustomersTable {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  timezone: string;
  locale: string;
  tier: string;
  points: number;
  total_spend: number;
  preferred_channel: string;
  consent_email: number;
  consent_sms: number;
  /** When the customer withdrew email consent (unsubscribe); null while consent stands or after a resubscribe. */
  email_revoked_at: number | null;
  sms_revoked_at: number | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
}

export interface SendLedgerTable {
  workflow_id: string;
  /** The journey run's first execution run id: stable across continue-as-new, new on re-entry. */
  run_id: string;
  step_id: string;
  customer_id: string;
  /** The channel the step asked for; `channel` is the one used (they differ after a fallback). */
  requested_channel: string;
  channel: string;
  status: string;
  provider_message_id: string | null;
  reason: string | null;
  /** The attempt that may send now, and until when (epoch ms); another attempt waits for the lease to lapse. */
  lease_owner: string | null;
  lease_until: number | null;
  /** Set just before the transport is called: a lapsed lease with this set is in doubt (may have gone out). */
  transport_started_at: number | null;
  attempts: number;
  created_at: number;
  updated_at: number;
}

export interface OutcomesTable {
  id: Generated<number>;
  customer_id: string;
  stage: string;
  campaign_id: string;
  step: string;
  variant: string;
  holdout: number;
  channel: string | null;
  status: string;
  reason: string | null;
  value: number | null;
  workflow_id: string;
  occurred_at: number;
  data: string | null;
  /** Natural key of the fact (unique where set): writing the same fact again leaves one row. */
  fact_key: string | null;
}

export interface SuppressionsTable {
  channel: string;
  address: string;
  reason: string;
  created_at: number;
}

export interface MessageStatusTable {
  provider_message_id: string;
  channel: string;
  status: string;
  /** Position of `status` in the delivery state machine; updates only ever raise it. */
  status_rank: number;
  updated_at: number;
}

export interface MessageStatusEventsTable {
  provider_message_id: string;
  status: string;
  occurred_at: number;
  received_at: number;
}

export interface FrequencyReservationsTable {
  key: string;
  customer_id: string;
  channel: string;
  reserved_at: number;
}

export interface IdempotencyRecordsTable {
  /** Who asked and where (credential and route): the same key from two clients is two records. */
  scope: string;
  key: string;
  /** Hash of the request (method, URL, body): the same key with another request is refused. */
  request_hash: string;
  status: 'in-progress' | 'done';
  response_code: number | null;
  response_body: string | null;
  response_type: string | null;
  created_at: number;
  expires_at: number;
}

export interface WebhookReplaysTable {
  signature: string;
  expires_at: number;
}

/** One fixed window of one rate limit (see rate-limits.ts); the window is [window_start, expires_at). */
export interface RateLimitsTable {
  /** Which limit counts here, such as `links` or `failed-auth`. */
  limiter: string;
  /** Whom it counts: the client address, as the limiter keys it. */
  client_key: string;
  window_start: number;
  hits: number;
  expires_at: number;
}

/** The outbox of signals to journeys that could not be delivered when sent (see pending-signals.ts). */
/** Every consent change made by a customer's or an operator's action: who or what, when, and on what evidence. */
export interface ConsentChangesTable {
  id: Generated<number>;
  customer_id: string;
  channel: string;
  granted: number;
  source: string;
  evidence: string | null;
  at: number;
}

export interface PendingSignalsTable {
  id: Generated<number>;
  /** Unique: a repeated click finds its signal kept already. */
  signal_key: string;
  kind: string;
  /** The signal as JSON text. */
  payload: string;
  status: 'pending' | 'done';
  result: string | null;
  attempts: number;
  next_attempt_at: number;
  /** The instance delivering it now, and until when its claim holds. */
  claimed_by: string | null;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  customers: CustomersTable;
  send_ledger: SendLedgerTable;
  outcomes: OutcomesTable;
  suppressions: SuppressionsTable;
  message_status: MessageStatusTable;
  message_status_events: MessageStatusEventsTable;
  frequency_reservations: FrequencyReservationsTable;
  idempotency_records: IdempotencyRecordsTable;
  webhook_replays: WebhookReplaysTable;
  pending_signals: PendingSignalsTable;
  rate_limits: RateLimitsTable;
  consent_changes: ConsentChangesTable;
}

export type Dialect = 'sqlite' | 'postgres';
