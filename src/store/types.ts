import { z } from 'zod';
import { isTimeZone } from '../shared/time-zone';

export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Where a consent change came from. */
export const CONSENT_SOURCES = ['api', 'api-event', 'profile', 'import', 'csv-segment', 'cli', 'unsubscribe-link', 'sms-keyword', 'event'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Who or what changed consent, and on what evidence (a token's name, a MessageSid, the link used). */
export interface ConsentProvenance {
  source: ConsentSource;
  evidence?: string;
}

/** A recorded consent change. */
export interface ConsentChange extends ConsentProvenance {
  channel: Channel;
  granted: boolean;
  at: Date;
}

/** Thrown when an operation names a customer (or ledger entry) the store does not have. */
export class StoreNotFoundError extends Error {
  override name = 'StoreNotFoundError';
}


/** What callers may send to `upsertCustomer`; omitted fields keep their stored value on update. */
export const CustomerInputSchema = z.object({
  // `\S` (and no minLength): one message for a blank id, and the document says that blank is not an id.
  id: z.string().trim().max(200).regex(/\S/, 'expected a customer id'),
  name: z.string().trim().regex(/\S/, 'expected a name'),
  email: z
    .email({ message: 'expected an email address such as ada@example.com' })
    // Documents (OpenAPI) state the pattern that is checked, not `format: email`, which other validators read otherwise.
    .meta({ format: undefined })
    .nullish(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +15005550006')
    .nullish(),
  timezone: z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Paris').default('UTC'),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language tag such as en or pt-BR')
    .default('en'),
  tier: z.string().min(1).default('standard'),
  points: z.number().int().min(0).default(0),
  totalSpend: z.number().finite().min(0).default(0),
  preferredChannel: z.enum(CHANNELS).default('email'),
  consentEmail: z.boolean().default(false),
  consentSms: z.boolean().default(false),
  lastActivityAt: z.date().optional(),
});

export type CustomerInput = z.input<typeof CustomerInputSchema>;

export interface CustomerProfile {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  timezone: string;
  locale: string;
  tier: string;
  points: number;
  totalSpend: number;
  preferredChannel: Channel;
  consentEmail: boolean;
  consentSms: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
}

/** `in-doubt`: the message may have gone out and the policy says not to send it again (a person decides). */
export type LedgerStatus = 'pending' | 'sent' | 'skipped' | 'bounced' | 'failed' | 'in-doubt';

/** One message of one journey run: the workflow, its run (first execution run id) and the step. */
export interface SendKey {
  workflowId: string;
  runId: string;
  stepId: string;
}

export interface LedgerEntry extends SendKey {
  customerId: string;
  /** The channel the step asked for; `channel` is the one used (they differ after a fallback). */
  requestedChannel: Channel;
  channel: Channel;
  status: LedgerStatus;
  providerMessageId: string | null;
  reason: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** When an attempt last called the transport: a lapsed lease with this set is in doubt. */
  transportStartedAt: Date | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
}

export const OUTCOME_STATUSES = [
  'sent',
  'skipped',
  'deferred',
  'bounced',
  'failed',
  'delivered',
  'entered',
  'converted',
  'escalated',
  'resolved',
  'csat',
  'nps',
  'churned',
  'won_back',
  'recovery',
  'first_response',
  'completed',
  'unsubscribed',
  'lapsed',
  'purchase',
  'tier_up',
  'csat_timeout',
  'cancelled',
  'in_doubt',
] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** One fact about a campaign run; every row is self-contained so reports need no joins. */
export interface OutcomeRecord {
  customerId: string;
  /** Lifecycle stage the customer was in (onboarding, nurture, complaint, win_back, ...). */
  stage: string;
  campaignId: string;
  step: string;
  /** Experiment arm, e.g. 'A', 'B' or 'control'. */
  variant: string;
  /** True for customers deliberately not messaged, the baseline for lift. */
  holdout: boolean;
  channel?: Channel | null;
  status: OutcomeStatus;
  reason?: string | null;
  /** A CSAT/NPS score, an amount, or a duration in ms, depending on `status`. */
  value?: number | null;
  workflowId: string;
  occurredAt: Date;
  data?: Record<string, unknown> | null;
  /**
   * The fact's natural key (e.g. `purchase/<customer>/<order>`, `<workflow>/<run>/<step>/sent`): writing a fact
   * with a key already stored returns the stored row instead of counting it twice. Unset: always a new row.
   */
  factKey?: string | null;
}

export interface StoredOutcome extends Required<OutcomeRecord> {
  id: number;
}

export interface OutcomeFilter {
  customerId?: string;
  campaignId?: string;
  workflowId?: string;
  status?: OutcomeStatus | OutcomeStatus[];
  /** Inclusive lower bound on occurredAt. */
  from?: Date;
  /** Exclusive upper bound on occurredAt. */
  to?: Date;
  limit?: number;
}

/**
 * Provider delivery statuses (Twilio's message statuses; email transports map onto the same names) in the
 * order a message moves through them. Statuses of equal rank are alternative outcomes: the first one wins.
 */
export const MESSAGE_STATUS_RANK = {
  accepted: 0,
  scheduled: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
  canceled: 4,
  bounced: 4,
  read: 5,
} as const;
export type MessageStatus = keyof typeof MESSAGE_STATUS_RANK;

export function isMessageStatus(value: string): value is MessageStatus {
  return Object.prototype.hasOwnProperty.call(MESSAGE_STATUS_RANK, value);
}

export interface FrequencyRequest {
  customerId: string;
  channel: Channel;
  /** Most sends allowed within any `windowMs`. */
  max: number;
  windowMs: number;
  now: Date;
  /** Identifies the send asking (e.g. `${workflowId}:${stepId}`): asking again for the same customer and channel never takes a second slot. */
  key: string;
}
