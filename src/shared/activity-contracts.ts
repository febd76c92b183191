import type { Stage } from './campaign-definition';
import type { Channel } from './journey-types';
import type { CustomerEvent } from './messages';

/** The customer as a workflow needs to see it (read through an activity; the store is the source of truth). */
export interface CustomerSnapshot {
  id: string;
  name: string;
  tier: string;
  points: number;
  totalSpend: number;
  timezone: string;
  preferredChannel: Channel;
  consent: { email: boolean; sms: boolean };
  hasEmail: boolean;
  hasPhone: boolean;
  createdAt: number;
  lastActivityAt?: number;
}

/** Campaign context for the fields a journey adds to the template context. */
export interface MessageExtras {
  offer?: { code: string; expiresAt: string; discountPercent: number };
  ticket?: { id: string; subject?: string; status?: string; note?: string };
  survey?: 'csat' | 'churn-reason';
}

export interface SendMessageInput {
  workflowId: string;
  /**
   * The journey run (first execution run id): with workflowId and stepId the key of the send ledger, so a customer
   * who enters a stage again gets that run's messages. Absent in activities scheduled before runs were keyed.
   */
  runId?: string;
  /** Unique within the run; with workflowId and runId the key of the send ledger (exactly once). */
  stepId: string;
  customerId: string;
  stage: Stage;
  campaignId: string;
  step: string;
  variant: string;
  holdout: boolean;
  channel: Channel;
  fallback: boolean;
  templateId: string;
  extras: MessageExtras;
  whenCapped: 'defer' | 'skip';
  maxSmsSegments?: number;
  /**
   * The campaign's SMS quiet hours, checked by every attempt right before the transport (an SMS deferred by the
   * frequency cap, retried after an outage, or reached by fallback from email never lands inside them).
   */
  quietHours?: { start: number; end: number };
  /** Epoch ms after which the message is no longer sent (skipped as `expired`): the step's deadline. */
  notAfter?: number;
  /** How many times this step was deferred before (keys the `deferred` outcome rows). */
  deferrals?: number;
}

export type SendMessageResult =
  | { status: 'sent'; channel: Channel; providerMessageId: string; duplicate: boolean }
  | { status: 'skipped'; reason: string; channel?: Channel }
  | { status: 'deferred'; reason: DeferralReason; retryAt: number }
  | { status: 'bounced'; reason: string; channel: Channel };

/** Why a message was deferred: the customer's quiet hours (SMS) or the frequency cap. */
export type DeferralReason = 'quiet-hours' | 'frequency-cap';

export interface OutcomeInput {
  customerId: string;
  stage: Stage;
  campaignId: string;
  workflowId: string;
  step?: string;
  variant: string;
  holdout: boolean;
  channel?: Channel;
  status: string;
  reason?: string;
  value?: number;
  occurredAt: number;
  data?: Record<string, unknown>;
  /** Natural key of the fact: a retried or repeated write with the same key is stored once. */
  factKey?: string;
}

export interface JourneyEntryInput {
  customerId: string;
  /** The `entered` fact to record once the customer is found; absent for a run continued as new. */
  entered?: OutcomeInput;
}

export interface EscalationInput {
  workflowId: string;
  /** The complaint run; with workflowId and reason the webhook's Idempotency-Key. */
  runId?: string;
  customerId: string;
  ticketId: string;
  reason: 'first-response-sla' | 'resolution-sla';
  deadline: number;
}

/**
 * What became of an escalation call: the support system took it, no webhook is configured, or the endpoint refused
 * it for good (a 4xx other than 408/429: retrying gives the same answer), which the journey records and goes on.
 */
export type EscalationResult = { status: 'delivered' | 'not-configured' } | { status: 'refused'; httpStatus: number };

export interface HandOffInput {
  customerId: string;
  to: Stage;
  from: Stage;
  reason: string;
}

/** The activities lifecycle workflows call; implemented in src/activities/. */
export interface JourneyActivities {
  loadCustomer(customerId: string): Promise<CustomerSnapshot | undefined>;
  /**
   * A journey's first step, run as a local activity inside its first workflow task: loads the customer and, for a
   * known customer, records the `entered` fact (keyed, so a retry stores it once). Undefined for an unknown customer.
   */
  enterJourney(input: JourneyEntryInput): Promise<CustomerSnapshot | undefined>;
  sendMessage(input: SendMessageInput): Promise<SendMessageResult>;
  /** Stores the fact; true when this call stored it, false when its key was stored before (it counts once). */
  recordOutcome(outcome: OutcomeInput): Promise<boolean>;
  saveLoyalty(input: { customerId: string; points: number; tier: string; totalSpend: number; lastActivityAt: number }): Promise<void>;
  /** Calls the support escalation webhook; 5xx, 408, 429 and network errors are thrown, so Temporal retries them. */
  escalate(input: EscalationInput): Promise<EscalationResult>;
  /** Starts (or signals) the journey of another stage with its current campaign definition. */
  handOff(input: HandOffInput): Promise<{ workflowId: string; started: boolean }>;
}

export interface ForwardActivities {
  /**
   * Signals customer events, as received (event ids kept, so a journey that also got them directly applies each
   * once), to a journey; one that no longer runs gets nothing.
   */
  forwardCustomerEvents(input: { workflowId: string; events: CustomerEvent[] }): Promise<{ delivered: number }>;
}
