import { unsubscribeTokenFormat, type UnsubscribeChannel } from '../delivery/unsubscribe-token';
import { isMessageStatus, type Channel, type MessageStatus, type OutcomeStatus } from '../store';
import type { TriggerContext } from './context';
import { EMAIL_UNSUBSCRIBE_REASON, recordCustomerEvent, storeCustomerEvent } from './customer-events';
import { NotFoundError } from './errors';
import { ExpiredLinkError, InvalidLinkError } from './link-errors';
import { deliverOrKeep, type Delivery } from './pending-signals';

/**
 * Consent as customers express it outside the marketer's tools: SMS keywords (STOP/START/HELP), the signed
 * unsubscribe link, and the provider's delivery reports. Every entry point (Twilio webhooks, the link pages, a
 * CLI) goes through these functions, which keep the store and the running journeys in step.
 */

export type SmsKeyword = 'stop' | 'start' | 'help';

/** The carrier-standard keywords (CTIA) Twilio itself honours; compared case-insensitively to the whole trimmed body. */
const KEYWORDS: Record<string, SmsKeyword> = {
  STOP: 'stop',
  STOPALL: 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  REVOKE: 'stop',
  OPTOUT: 'stop',
  START: 'start',
  YES: 'start',
  UNSTOP: 'start',
  OPTIN: 'start',
  HELP: 'help',
  INFO: 'help',
};

/** Suppression reason written for a number that texted STOP (a later START may lift exactly this kind). */
export const SMS_STOP_REASON = 'sms-stop';

/**
 * The keyword an inbound SMS stands for. Twilio's `OptOutType` (sent when Advanced Opt-Out handled the message,
 * including custom keywords configured there) wins over our own reading of the body.
 */
export function smsKeyword(body: string | undefined, optOutType?: string): SmsKeyword | undefined {
  const fromTwilio = optOutType?.trim().toUpperCase();
  if (fromTwilio === 'STOP' || fromTwilio === 'START' || fromTwilio === 'HELP') return KEYWORDS[fromTwilio];
  return KEYWORDS[(body ?? '').trim().toUpperCase()];
}

export interface InboundSms {
  /** The sender's number (Twilio's `From`), E.164. */
  from: string;
  body?: string;
  optOutType?: string;
  /** Twilio's id of the message: the evidence kept with the consent change. */
  messageSid?: string;
}

export interface InboundSmsResult {
  keyword?: SmsKeyword;
  /** Customers with the sender's number whose SMS consent changed. */
  customerIds: string[];
  /** Running journeys the consent change was signalled to. */
  deliveredTo: string[];
}

/**
 * STOP withdraws SMS consent from every customer with the number, suppresses the number itself (consent is about
 * the number, known customer or not) and tells their running journeys; START gives SMS consent back; HELP and
 * other text change nothing.
 */
export async function handleInboundSms(ctx: TriggerContext, sms: InboundSms, at: Date = new Date()): Promise<InboundSmsResult> {
  const keyword = smsKeyword(sms.body, sms.optOutType);
  if (keyword !== 'stop' && keyword !== 'start') return { keyword, customerIds: [], deliveredTo: [] };
  if (keyword === 'stop') await ctx.store.suppress('sms', sms.from, SMS_STOP_REASON);
  // START lifts only an opt-out (our STOP, or Twilio's 21610 'opted-out'); a number suppressed as invalid stays so.
  else await ctx.store.unsuppress('sms', sms.from, [SMS_STOP_REASON, 'opted-out']);
  const customers = await ctx.store.findCustomersByPhone(sms.from);
  const deliveredTo: string[] = [];
  for (const customer of customers) {
    const event = { type: keyword === 'stop' ? 'unsubscribe' : 'resubscribe', channel: 'sms' } as const;
    const result = await recordCustomerEvent(ctx, customer.id, event, at, {}, { source: 'sms-keyword', evidence: smsEvidence(sms) });
    deliveredTo.push(...result.deliveredTo);
  }
  return { keyword, customerIds: customers.map((c) => c.id), deliveredTo };
}

/** "STOP from +15005550100 (MessageSid SM...)": the keyword as sent, or Twilio's OptOutType. */
function smsEvidence(sms: InboundSms): string {
  const said = sms.body?.trim().slice(0, 20) || sms.optOutType || '(empty)';
  return `${JSON.stringify(said)} from ${sms.from}${sms.messageSid ? ` (MessageSid ${sms.messageSid})` : ''}`;
}

export interface SignedUnsubscribe {
  customerId: string;
  channel: UnsubscribeChannel;
  token: string;
}

/** How the API honours unsubscribe links: the signing secret, and the end of the transition for links signed before v2. */
export interface UnsubscribeLinkPolicy {
  secret: string;
  legacyUntil: Date;
}

/**
 * Whether a link may unsubscribe: `valid` (signed now, or before v2 while its transition lasts), `ended` (signed
 * before v2, transition over: HTTP 410) or `forged` (not signed by us for this customer and channel: HTTP 403).
 */
export function checkUnsubscribeLink(policy: UnsubscribeLinkPolicy, link: SignedUnsubscribe, now: Date = new Date()): 'valid' | 'ended' | 'forged' {
  const format = unsubscribeTokenFormat(policy.secret, link.customerId, link.channel, link.token);
  if (format === 'current') return 'valid';
  if (format === 'legacy') return now < policy.legacyUntil ? 'valid' : 'ended';
  return 'forged';
}

/** Throws the link's refusal (InvalidLinkError, ExpiredLinkError), if any. */
function requireValidUnsubscribe(policy: UnsubscribeLinkPolicy, link: SignedUnsubscribe, now: Date): void {
  const check = checkUnsubscribeLink(policy, link, now);
  if (check === 'forged') throw new InvalidLinkError('the unsubscribe link is not valid');
  if (check === 'ended') throw new ExpiredLinkError('this unsubscribe link is from an old message and no longer works');
}

/** What the confirmation page of a link needs: a link that may unsubscribe, for a customer we know (else it throws). */
export async function checkUnsubscribePage(ctx: Pick<TriggerContext, 'store'>, policy: UnsubscribeLinkPolicy, link: SignedUnsubscribe, now: Date = new Date()): Promise<void> {
  requireValidUnsubscribe(policy, link, now);
  if (!(await ctx.store.getCustomer(link.customerId))) throw new NotFoundError(`unknown customer ${link.customerId}`);
}

export interface Unsubscribed {
  customerId: string;
  channel: UnsubscribeChannel;
  /**
   * `delivered`: the customer's running journeys were told; `kept`: Temporal did not answer, so the signal waits in
   * the outbox for the API instances to deliver (the consent change itself is stored either way).
   */
  journeys: Delivery['status'];
}

/**
 * The one-click unsubscribe from a signed link: withdraws consent for the link's channel and signals the
 * customer's running journeys (later, from the outbox, when Temporal is down); an email link also suppresses the
 * address, for every customer record that has it. Idempotent: unsubscribing twice leaves the same state.
 */
export async function unsubscribeBySignedLink(ctx: TriggerContext, policy: UnsubscribeLinkPolicy, link: SignedUnsubscribe, at: Date = new Date()): Promise<Unsubscribed> {
  requireValidUnsubscribe(policy, link, at);
  const customer = await ctx.store.getCustomer(link.customerId);
  if (!customer) throw new NotFoundError(`unknown customer ${link.customerId}`);
  if (link.channel === 'email' && customer.email) await ctx.store.suppress('email', customer.email, EMAIL_UNSUBSCRIBE_REASON);
  const event = await storeCustomerEvent(ctx, link.customerId, { type: 'unsubscribe', channel: link.channel }, at, {}, {
    source: 'unsubscribe-link',
    evidence: `the signed ${link.channel} unsubscribe link of our messages`,
  });
  const delivery = await deliverOrKeep(ctx, { kind: 'customer-event', customerId: link.customerId, event });
  return { customerId: link.customerId, channel: link.channel, journeys: delivery.status };
}

export interface DeliveryReport {
  providerMessageId: string;
  channel: Channel;
  /** The provider's status name (Twilio's MessageStatus). */
  status: string;
  /** The provider's error code for failed/undelivered messages (Twilio's ErrorCode). */
  errorCode?: string;
  /** The recipient (Twilio's `To`), for suppressing a number the carrier reports as opted out. */
  to?: string;
  at: Date;
}

export interface DeliveryReportResult {
  /** False for statuses this system does not track (e.g. Twilio's inbound 'received'). */
  known: boolean;
  /** True when the message's status moved forward (a late or repeated report does not). */
  changed: boolean;
  status?: MessageStatus;
  /** The outcome row written for a delivered/failed message, if any. */
  outcome?: OutcomeStatus;
  suppressed: boolean;
}

/** Twilio: "Attempt to send to unsubscribed recipient" (the number texted STOP to the sender). */
const TWILIO_UNSUBSCRIBED_RECIPIENT = '21610';

const FINAL_OUTCOMES: Partial<Record<MessageStatus, OutcomeStatus>> = {
  delivered: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};

/**
 * A provider status callback. The status only moves forward (the store ignores late and repeated reports), and
 * when it first reaches delivered (or undelivered/failed) an outcome row is written with the context of the
 * campaign message it belongs to, so the funnel can count deliveries. A number the carrier reports as
 * unsubscribed (Twilio 21610) is suppressed.
 */
export async function recordDeliveryReport(ctx: Pick<TriggerContext, 'store'>, report: DeliveryReport): Promise<DeliveryReportResult> {
  const { store } = ctx;
  let suppressed = false;
  if (report.errorCode === TWILIO_UNSUBSCRIBED_RECIPIENT && report.to) {
    await store.suppress(report.channel, report.to, SMS_STOP_REASON);
    suppressed = true;
  }
  if (!isMessageStatus(report.status)) return { known: false, changed: false, suppressed };
  const { changed, status } = await store.recordMessageStatus(report.providerMessageId, report.channel, report.status, report.at);
  const outcomeStatus = FINAL_OUTCOMES[report.status];
  if (!changed || !outcomeStatus) return { known: true, changed, status, suppressed };
  const written = await recordDeliveryOutcome(ctx, report, outcomeStatus);
  return { known: true, changed, status, suppressed, outcome: written ? outcomeStatus : undefined };
}

/**
 * Writes the delivered/failed outcome next to the message's 'sent' row (same stage, campaign, step, variant,
 * holdout and workflow). Reached only once per message: the store reports the move to a final status once.
 * Messages this system did not send (no ledger entry) get no outcome.
 */
async function recordDeliveryOutcome(ctx: Pick<TriggerContext, 'store'>, report: DeliveryReport, status: OutcomeStatus): Promise<boolean> {
  const { store } = ctx;
  // Read-only lookup through the query layer: the ledger is the one place that maps a provider id to a send.
  const ledger = await store.kysely
    .selectFrom('send_ledger')
    .select(['workflow_id', 'step_id', 'customer_id'])
    .where('provider_message_id', '=', report.providerMessageId)
    .executeTakeFirst();
  if (!ledger) return false;
  const sentRows = await store.listOutcomes({ workflowId: ledger.workflow_id, status: 'sent' });
  const sent = sentRows.find((o) => o.data?.providerMessageId === report.providerMessageId);
  if (!sent) return false;
  await store.recordOutcome({
    customerId: sent.customerId,
    stage: sent.stage,
    campaignId: sent.campaignId,
    step: sent.step,
    variant: sent.variant,
    holdout: sent.holdout,
    channel: sent.channel,
    status,
    reason: status === 'delivered' ? null : `${report.status}${report.errorCode ? `:${report.errorCode}` : ''}`,
    workflowId: sent.workflowId,
    occurredAt: report.at,
    data: { providerMessageId: report.providerMessageId, providerStatus: report.status, ...(report.errorCode && { errorCode: report.errorCode }) },
  });
  return true;
}
