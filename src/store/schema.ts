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
  created_at: number;
  updated_at: number;
  last_activity_at: number;
}

export interface SendLedgerTable {
  workflow_id: string;
  step_id: string;
  customer_id: string;
  channel: string;
  status: string;
  provider_message_id: string | null;
  reason: string | null;
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

export interface Database {
  customers: CustomersTable;
  send_ledger: SendLedgerTable;
  outcomes: OutcomesTable;
  suppressions: SuppressionsTable;
  message_status: MessageStatusTable;
  message_status_events: MessageStatusEventsTable;
  frequency_reservations: FrequencyReservationsTable;
}

export type Dialect = 'sqlite' | 'postgres';
