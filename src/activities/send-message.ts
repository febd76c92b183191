import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { EmailTransport } from '../delivery/email';
import { certainlyNotSent, isDeliveryError, type DeliveryError } from '../delivery/errors';
import type { SmsTransport } from '../delivery/sms';
import type { TemplateContext } from '../delivery/template-context';
import { TemplateError, type TemplateRenderer } from '../delivery/templates';
import { surveyLink } from '../delivery/survey-token';
import { unsubscribeUrl } from '../delivery/unsubscribe-token';
import type { DeferralReason, SendMessageInput, SendMessageResult } from '../shared/activity-contracts';
import type { Channel } from '../shared/journey-types';
import { nextSendableTime } from '../shared/quiet-hours';
import type { CustomerProfile, LedgerEntry, OutcomeStatus, SendKey, Store } from '../store';
import { heartbeat } from './heartbeat';

export interface SendDeps {
  store: Store;
  email: EmailTransport;
  sms: SmsTransport;
  renderer: TemplateRenderer;
  /** Signing of the links in messages; a survey link works for `surveyValidForMs` after its message is rendered for sending. */
  links: { publicBaseUrl: string; secret: string; surveyValidForMs: number };
  brandName: string;
  frequencyCap: Record<Channel, { max: number; windowMs: number }>;
  /** What a send in doubt does for email (see EMAIL_IN_DOUBT): `resend` with the same Message-ID, or `hold`. */
  emailInDoubt?: 'resend' | 'hold';
  /** The time quiet hours, deadlines and leases are judged by; tests on a time-skipping server pass its clock. */
  clock?: () => Promise<number>;
}

/**
 * The send lease. A claim holds for CLAIM_LEASE_MS (consent checks, rendering); from the transport call on it is
 * renewed every LEASE_RENEW_MS to TRANSPORT_LEASE_MS ahead, so it lapses at most TRANSPORT_LEASE_MS after its
 * holder died. The activity heartbeats on the same beat (heartbeat timeout: ACTIVITY_HEARTBEAT_TIMEOUT_MS).
 */
export const SEND_LEASE = {
  claimMs: 30_000,
  transportMs: 30_000,
  renewEveryMs: 5_000,
} as const;

/** Deterministic per (workflow, run, step): a retried activity sends the same Message-ID. */
export function messageIdFor(key: SendKey): string {
  const parts = key.runId ? [key.workflowId, key.runId, key.stepId] : [key.workflowId, key.stepId];
  return `<${parts.join('.').replace(/[^A-Za-z0-9._-]/g, '_')}@retention.local>`;
}

/** Identifies one message of one run in outcome keys and frequency reservations. */
function sendPath(key: SendKey): string {
  return `${key.workflowId}/${key.runId}/${key.stepId}`;
}

function address(customer: CustomerProfile, channel: Channel): string | null {
  return channel === 'email' ? customer.email : customer.phone;
}

/** Why this channel cannot be used for the customer now, or undefined when it can. */
async function channelProblem(store: Store, customer: CustomerProfile, channel: Channel): Promise<string | undefined> {
  const to = address(customer, channel);
  if (!to) return `no-${channel}-address`;
  if (!(channel === 'email' ? customer.consentEmail : customer.consentSms)) return `no-${channel}-consent`;
  if (await store.isSuppressed(channel, to)) return `${channel}-suppressed`;
  return undefined;
}

function context(deps: SendDeps, input: SendMessageInput, key: SendKey, customer: CustomerProfile, channel: Channel): TemplateContext {
  const { extras } = input;
  return {
    customer: {
      id: customer.id,
      name: customer.name,
      tier: customer.tier,
      points: customer.points,
      email: customer.email ?? undefined,
      phone: customer.phone ?? undefined,
    },
    campaign: { id: input.campaignId, stage: input.stage, step: input.step, variant: input.variant },
    offer: extras.offer && { code: extras.offer.code, expiresAt: extras.offer.expiresAt, discount: `${extras.offer.discountPercent}%` },
    surveyLink:
      extras.survey &&
      surveyLink(deps.links.publicBaseUrl, deps.links.secret, { workflowId: key.workflowId, runId: key.runId }, extras.survey, new Date(Date.now() + deps.links.surveyValidForMs)),
    unsubscribeLink: unsubscribeUrl(deps.links.publicBaseUrl, deps.links.secret, customer.id, channel),
    ticket: extras.ticket,
    brand: { name: deps.brandName },
  };
}

type Rendered = { channel: 'email'; subject: string; html: string; text: string; unsubscribeUrl: string } | { channel: 'sms'; body: string; segments: number };

async function render(deps: SendDeps, input: SendMessageInput, key: SendKey, customer: CustomerProfile, channel: Channel): Promise<Rendered> {
  const ctx = context(deps, input, key, customer, channel);
  if (channel === 'email') {
    const { subject, html, text } = await deps.renderer.renderMessage(input.templateId, 'email', ctx);
    return { channel, subject, html, text, unsubscribeUrl: ctx.unsubscribeLink };
  }
  const { body, segments } = await deps.renderer.renderMessage(input.templateId, 'sms', ctx);
  return { channel, body, segments };
}

/**
 * One campaign message, exactly once per (workflow, run, step). The ledger claim is a lease: only its holder may call
 * the transport, and only while the lease holds. Then consent, suppression and the step's SMS length limit (with
 * fallback to the other channel), the step's deadline, SMS quiet hours, the frequency cap, render, transport, ledger,
 * outcome. Problems that retrying cannot fix end as a recorded skip or bounce; transient transport errors are thrown so
 * Temporal retries.
 *
 * The in-doubt window (the provider took the message, the worker died before the ledger write) is closed per
 * channel when the next attempt finds the lapsed lease: SMS asks Twilio whether the message went out; email is
 * resent with the same Message-ID or held as `in-doubt`, as EMAIL_IN_DOUBT says.
 */
export async function sendMessage(deps: SendDeps, input: SendMessageInput): Promise<SendMessageResult> {
  const { store } = deps;
  const clock = deps.clock ?? (async () => Date.now());
  const key: SendKey = { workflowId: input.workflowId, runId: input.runId ?? '', stepId: input.stepId };
  const owner = randomUUID();
  const frequencyKey = sendPath(key);
  let reservedChannel: Channel | undefined = undefined;

  const outcome = (status: OutcomeStatus, channel: Channel | null, reason: string | null, data: Record<string, unknown> = {}, keySuffix: string = status) =>
    store.recordOutcome({
      customerId: input.customerId,
      stage: input.stage,
      campaignId: input.campaignId,
      step: input.step,
      variant: input.variant,
      holdout: input.holdout,
      channel,
      status,
      reason,
      workflowId: input.workflowId,
      occurredAt: new Date(),
      data: { template: input.templateId, ...data },
      factKey: `send/${sendPath(key)}/${keySuffix}`,
    });
  const finish = async (status: 'skipped' | 'bounced' | 'failed' | 'in-doubt', channel: Channel | null, reason: string): Promise<SendMessageResult> => {
    await store.completeSend(key, { status, reason, channel: channel ?? undefined });
    // A message that did not go out gives its frequency slot back; one in doubt may have gone out and keeps it.
    if (reservedChannel && status !== 'in-doubt') await store.releaseFrequencySlot(input.customerId, reservedChannel, frequencyKey);
    await outcome(status === 'in-doubt' ? 'in_doubt' : status, channel, reason);
    return status === 'bounced' ? { status, reason, channel: channel ?? input.channel } : { status: 'skipped', reason, channel: channel ?? undefined };
  };
  const defer = async (reason: DeferralReason, retryAt: number, channel: Channel): Promise<SendMessageResult> => {
    await store.releaseSend(key, owner);
    await outcome('deferred', channel, reason, {}, `deferred/${input.deferrals ?? 0}`);
    return { status: 'deferred', reason, retryAt };
  };

  const claim = await store.claimSend({ ...key, customerId: input.customerId, channel: input.channel, owner, leaseMs: SEND_LEASE.claimMs, now: new Date(await clock()) });
  if (claim.kind === 'busy') {
    // Another attempt holds the lease and may be sending right now: come back when it has lapsed.
    throw ApplicationFailure.create({
      type: 'SendInProgress',
      message: `another attempt holds the send lease of ${sendPath(key)} until ${claim.until.toISOString()}`,
      nextRetryDelay: Math.max(1_000, claim.until.getTime() - (await clock()) + 1_000),
    });
  }
  if (claim.kind === 'final') return alreadyEnded(claim.entry, outcome);
  // No heartbeat until the transport call: the heartbeat timeout counts from the start anyway, and each heartbeat is
  // one more write on the Temporal server for every message of a launch.

  const customer = await store.getCustomer(input.customerId);
  if (!customer) return finish('skipped', null, 'unknown-customer');

  /** A template problem is returned, not thrown: retrying cannot fix it, the send ends as a recorded skip. */
  const renderFor = async (c: Channel): Promise<Rendered | TemplateError> => {
    try {
      return await render(deps, input, key, customer, c);
    } catch (err) {
      if (err instanceof TemplateError) return err;
      throw err;
    }
  };

  const candidates: Channel[] = input.fallback ? [input.channel, input.channel === 'email' ? 'sms' : 'email'] : [input.channel];
  let channel: Channel | undefined;
  let rendered: Rendered | undefined;
  let firstProblem: string | undefined;
  for (const candidate of candidates) {
    let problem = await channelProblem(store, customer, candidate);
    if (!problem && candidate === 'sms' && input.maxSmsSegments) {
      // An SMS longer than the step allows is an unusable channel like an opted-out one: the step's fallback applies.
      const sms = await renderFor('sms');
      if (sms instanceof TemplateError) return finish('skipped', 'sms', `template-error: ${sms.message}`);
      if (sms.channel === 'sms' && sms.segments > input.maxSmsSegments) problem = `sms-too-long:${sms.segments}-segments`;
      else rendered = sms;
    }
    if (!problem) {
      channel = candidate;
      break;
    }
    firstProblem ??= problem;
  }
  if (!channel) return finish('skipped', input.channel, firstProblem ?? 'no-channel');

  const now = await clock();
  if (input.notAfter !== undefined && now > input.notAfter) return finish('skipped', channel, 'expired');
  if (channel === 'sms') {
    const opensAt = nextSendableTime(now, customer.timezone, input.quietHours);
    if (opensAt > now) {
      if (input.notAfter !== undefined && opensAt > input.notAfter) return finish('skipped', channel, 'expired');
      return defer('quiet-hours', opensAt, channel);
    }
  }

  const cap = deps.frequencyCap[channel];
  const window = { customerId: customer.id, channel, max: cap.max, windowMs: cap.windowMs, now: new Date(now) };
  const allowed = await store.reserveFrequencySlot({ ...window, key: frequencyKey });
  if (!allowed) {
    // The moment the oldest send leaves the window (a second on, should a concurrent release have freed one already).
    const retryAt = Math.max(await store.frequencySlotFreesAt(window), now + 1000);
    if (input.whenCapped === 'skip' || (input.notAfter !== undefined && retryAt > input.notAfter)) return finish('skipped', channel, 'frequency-cap');
    return defer('frequency-cap', retryAt, channel);
  }
  reservedChannel = channel;

  const to = address(customer, channel) as string;
  const messageId = messageIdFor(key);
  if (rendered?.channel !== channel) {
    const message = await renderFor(channel);
    if (message instanceof TemplateError) return finish('skipped', channel, `template-error: ${message.message}`);
    rendered = message;
  }

  let inDoubtResend = false;
  if (claim.inDoubt) {
    const since = claim.entry.transportStartedAt ?? claim.entry.createdAt;
    if (rendered.channel === 'sms') {
      const found = await deps.sms.findSent({ to, body: rendered.body, since, messageId });
      if (found) return recordSent(store, key, channel, found, outcome, { inDoubt: 'found-at-provider' });
    } else if ((deps.emailInDoubt ?? 'resend') === 'hold') {
      return finish('in-doubt', channel, 'in-doubt-held');
    } else {
      inDoubtResend = true;
    }
  }

  const transportAt = await clock();
  if (!(await store.beginTransport(key, owner, new Date(transportAt + SEND_LEASE.transportMs), channel, new Date(transportAt)))) {
    throw ApplicationFailure.create({ type: 'SendLeaseLost', message: `the send lease of ${sendPath(key)} lapsed before the transport was called` });
  }
  let providerMessageId: string;
  const renewal = setInterval(() => {
    heartbeat();
    void clock()
      .then((t) => store.renewSend(key, owner, new Date(t + SEND_LEASE.transportMs), new Date(t)))
      .catch(() => undefined);
  }, SEND_LEASE.renewEveryMs);
  try {
    if (rendered.channel === 'email') {
      const sent = await deps.email.sendEmail({ to, subject: rendered.subject, html: rendered.html, text: rendered.text, messageId, unsubscribe: { url: rendered.unsubscribeUrl } });
      providerMessageId = sent.messageId;
    } else {
      providerMessageId = (await deps.sms.sendSms({ to, body: rendered.body, messageId })).providerMessageId;
    }
  } catch (err) {
    if (isDeliveryError(err) && err.kind !== 'retryable') return undeliverable(deps, finish, channel, to, err);
    // The provider certainly did not take it: the next attempt need not be in doubt.
    if (isDeliveryError(err) && certainlyNotSent(err)) await store.releaseSend(key, owner, { transportDone: true });
    throw err;
  } finally {
    clearInterval(renewal);
  }
  if (inDoubtResend) await outcome('in_doubt', channel, 'in-doubt-resent', { providerMessageId });
  return recordSent(store, key, channel, providerMessageId, outcome, inDoubtResend ? { inDoubt: 'resent' } : {});
}

async function recordSent(
  store: Store,
  key: SendKey,
  channel: Channel,
  providerMessageId: string,
  outcome: (status: OutcomeStatus, channel: Channel | null, reason: string | null, data?: Record<string, unknown>) => Promise<unknown>,
  data: Record<string, unknown>,
): Promise<SendMessageResult> {
  await store.completeSend(key, { status: 'sent', channel, providerMessageId });
  await outcome('sent', channel, null, { providerMessageId, ...data });
  return { status: 'sent', channel, providerMessageId, duplicate: false };
}

/** A send that ended in an earlier attempt: never again; make sure its outcome row exists (keyed, so once). */
async function alreadyEnded(
  entry: LedgerEntry,
  outcome: (status: OutcomeStatus, channel: Channel | null, reason: string | null, data?: Record<string, unknown>) => Promise<unknown>,
): Promise<SendMessageResult> {
  if (entry.status === 'sent') {
    await outcome('sent', entry.channel, null, { providerMessageId: entry.providerMessageId });
    return { status: 'sent', channel: entry.channel, providerMessageId: entry.providerMessageId ?? '', duplicate: true };
  }
  return { status: 'skipped', reason: entry.reason ?? entry.status, channel: entry.channel };
}

async function undeliverable(
  deps: SendDeps,
  finish: (status: 'skipped' | 'bounced' | 'failed', channel: Channel, reason: string) => Promise<SendMessageResult>,
  channel: Channel,
  to: string,
  err: DeliveryError,
): Promise<SendMessageResult> {
  const reason = `${err.kind}${err.details.code ? `:${err.details.code}` : ''}: ${err.message}`.slice(0, 500);
  if (err.kind === 'opted-out' || err.kind === 'invalid-address' || err.details.suppressAddress) {
    await deps.store.suppress(channel, to, err.kind);
    return finish('bounced', channel, reason);
  }
  return finish('failed', channel, reason);
}
