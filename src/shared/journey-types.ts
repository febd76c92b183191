import type { CampaignDefinitionInput, Stage } from './campaign-definition';

export type Channel = 'email' | 'sms';

export type JourneyOutcome =
  | 'in-progress'
  | 'converted'
  | 'completed'
  | 'unsubscribed'
  | 'lapsed'
  | 'resolved'
  | 'won-back'
  | 'churned'
  | 'cancelled';

/** What a stage workflow is started with. `definition` is the campaign as written; the workflow validates it again. */
export interface JourneyInput {
  customerId: string;
  definition: CampaignDefinitionInput;
  /** Complaint ticket, for the complaint stage. */
  ticket?: { id: string; subject?: string };
  /** State carried over by continue-as-new (nurture). */
  carried?: CarriedState;
}

export interface CarriedState {
  messagesSent: number;
  points: number;
  tier: string;
  totalSpend: number;
  lastActivityAt: number;
  nextTouchAt: number;
  nextAnniversaryAt: number;
  muted: boolean;
  generation: number;
  /** Event ids applied by earlier generations (see Journey.firstDelivery). */
  seenEventIds?: string[];
  /** The channel the journey uses for "preferred" (a channel-preference event may be newer than the store's copy). */
  preferredChannel?: Channel;
}

export interface JourneyState {
  stage: Stage;
  /** This run of the stage (first execution run id; stable across continue-as-new, new on re-entry). */
  runId: string;
  customerId: string;
  campaignId: string;
  campaignVersion: number;
  variant: string;
  holdout: boolean;
  currentStep: string;
  /** Epoch ms of the next timer this journey waits for, if any. */
  nextActionAt?: number;
  messagesSent: number;
  messagesSkipped: number;
  outcome: JourneyOutcome;
  muted: boolean;
  /** Stage-specific figures (loyalty points, SLA deadlines, CSAT rating, churn reason, ...). */
  details: Record<string, string | number | boolean | undefined>;
}

export interface JourneyResult {
  outcome: JourneyOutcome;
  messagesSent: number;
  details: JourneyState['details'];
}
