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
  /**
   * The journey code revision the starter asked for (JOURNEY_REVISION when started by this code; absent before).
   * Changes that would alter the commands of journeys already running are chosen by it, not by a patch marker: the
   * SDK records a patch with a search-attribute update, one more server write for every journey of a launch.
   */
  revision?: number;
}

/**
 * 11 (issue 11): the customer is entered by one local activity in the first workflow task, the start options carry
 * the Outcome and CampaignStep search attributes, and the memo is written when the journey begins and ends only.
 * 12 (issue 17): the holdout and variant draws use the mixed hash (`assign(..., 'mixed')`), so similar ids spread
 * evenly; a cancelled journey's memo says so.
 */
export const JOURNEY_REVISION = 12;

/** True when the journey was started for `revision` or a later one. */
export function startedAtRevision(input: JourneyInput, revision: number): boolean {
  return (input.revision ?? 0) >= revision;
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
