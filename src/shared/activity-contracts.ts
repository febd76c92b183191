import type { Stage } from './campaign-definition';
import type { Channel } from './journey-types';

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
  /** Unique within the workflow; with workflowId the key of the send ledger (exactly once). */
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
   * The campaign's SMS quiet hours. The workflow already waits for them when it picks SMS; the activity defers a
   * message that falls back from email to SMS inside them (the workflow cannot know about that fallback).
   */
  quietHours?: { start: number; end: number };
}

export type SendMessageResult =
  | { status: 'sent'; channel: Channel; providerMessageId: string; duplicate: boolean }
  | { status: 'skipped'; reason: string; channel?: Channel }
  | { status: 'deferred'; reason: string; retryAt: number }
  | { status: 'bounced'; reason: string; channel: Channel };

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
}

export interface EscalationInput {
  workflowId: string;
  customerId: string;
  ticketId: string;
  reason: 'first-response-sla' | 'resolution-sla';
  deadline: number;
}

export interface HandOffInput {
  customerId: string;
  to: Stage;
  from: Stage;
  reason: string;
}

/** The activities lifecycle workflows call; implemented in src/activities/. */
export interface JourneyActivities {
  loadCustomer(customerId: string): Promise<CustomerSnapshot | undefined>;
  sendMessage(input: SendMessageInput): Promise<SendMessageResult>;
  recordOutcome(outcome: OutcomeInput): Promise<void>;
  saveLoyalty(input: { customerId: string; points: number; tier: string; totalSpend: number; lastActivityAt: number }): Promise<void>;
  escalate(input: EscalationInput): Promise<void>;
  /** Starts (or signals) the journey of another stage with its current campaign definition. */
  handOff(input: HandOffInput): Promise<{ workflowId: string; started: boolean }>;
}
