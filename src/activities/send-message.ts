import type { EmailTransport } from '../delivery/email';
import { isDeliveryError, type DeliveryError } from '../delivery/errors';
import type { SmsTransport } from '../delivery/sms';
import type { TemplateContext } from '../delivery/template-context';
import { TemplateError, type TemplateRenderer } from '../delivery/templates';
import { unsubscribeUrl } from '../delivery/unsubscribe-token';
import type { SendMessageInput, SendMessageResult } from '../shared/activity-contracts';
import type { Channel } from '../shared/journey-types';
import { nextSendableTime } from '../shared/quiet-hours';
import type { CustomerProfile, Store } from '../store';
import { surveyLink } from './links';

export interface SendDeps {
  store: Store;
  email: EmailTransport;
  sms: SmsTransport;
  renderer: TemplateRenderer;
  links: { publicBaseUrl: string; secret: string };
  brandName: string;
  frequencyCap: Record<Channel, { max: number; windowMs: number }>;
}

/** Deterministic per (workflow, step): a retried activity sends the same Message-ID. */
export function messageIdFor(workflowId: string, stepId: string): string {
  return `<${`${workflowId}.${stepId}`.replace(/[^A-Za-z0-9._-]/g, '_')}@retention.local>`;
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

function context(deps: SendDeps, input: SendMessageInput, customer: CustomerProfile, channel: Channel): TemplateContext {
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
    surveyLink: extras.survey && surveyLink(deps.links.publicBaseUrl, deps.links.secret, input.workflowId, extras.survey),
    unsubscribeLink: unsubscribeUrl(deps.links.publicBaseUrl, deps.links.secret, customer.id, channel),
    ticket: extras.ticket,
    brand: { name: deps.brandName },
  };
}

/**
 * One campaign message, exactly once per (workflow, step): ledger check, consent and suppression (with fallback to
 * the other channel), frequency cap, render, send, ledger write, outcome row. Problems that retrying cannot fix end
 * as a recorded skip or bounce, never as an endless retry; transient transport errors are thrown so Temporal retries.
 */
export async function sendMessage(deps: SendDeps, input: SendMessageInput): Promise<SendMessageResult> {
  const { store } = deps;
  const outcome = (status: 'sent' | 'skipped' | 'deferred' | 'bounced' | 'failed', channel: Channel | null, reason: string | null, data?: Record<string, unknown>) =>
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
    });
  const finish = async (status: 'skipped' | 'bounced' | 'failed', channel: Channel | null, reason: string): Promise<SendMessageResult> => {
    await store.completeSend(input.workflowId, input.stepId, { status, reason });
    await outcome(status, channel, reason);
    return status === 'bounced' ? { status, reason, channel: channel ?? input.channel } : { status: 'skipped', reason, channel: channel ?? undefined };
  };

  const { entry } = await store.claimSend({ workflowId: input.workflowId, stepId: input.stepId, customerId: input.customerId, channel: input.channel });
  if (entry.status === 'sent') {
    // Sent by an earlier attempt that failed afterwards: make sure its outcome row exists, never send again.
    const recorded = await store.listOutcomes({ workflowId: input.workflowId, status: 'sent' });
    if (!recorded.some((o) => o.step === input.step)) await outcome('sent', entry.channel, null, { providerMessageId: entry.providerMessageId });
    return { status: 'sent', channel: entry.channel, providerMessageId: entry.providerMessageId ?? '', duplicate: true };
  }
  if (entry.status !== 'pending') {
    return { status: 'skipped', reason: entry.reason ?? entry.status, channel: entry.channel };
  }

  const customer = await store.getCustomer(input.customerId);
  if (!customer) return finish('skipped', null, 'unknown-customer');

  const candidates: Channel[] = input.fallback ? [input.channel, input.channel === 'email' ? 'sms' : 'email'] : [input.channel];
  let channel: Channel | undefined;
  let firstProblem: string | undefined;
  for (const candidate of candidates) {
    const problem = await channelProblem(store, customer, candidate);
    if (!problem) {
      channel = candidate;
      break;
    }
    firstProblem ??= problem;
  }
  if (!channel) return finish('skipped', input.channel, firstProblem ?? 'no-channel');

  if (channel === 'sms' && channel !== input.channel) {
    const opensAt = nextSendableTime(Date.now(), customer.timezone, input.quietHours);
    if (opensAt > Date.now()) {
      await outcome('deferred', channel, 'quiet-hours');
      return { status: 'deferred', reason: 'quiet-hours', retryAt: opensAt };
    }
  }

  const cap = deps.frequencyCap[channel];
  const allowed = await store.reserveFrequencySlot({
    customerId: customer.id,
    channel,
    max: cap.max,
    windowMs: cap.windowMs,
    now: new Date(),
    key: `${input.workflowId}/${input.stepId}`,
  });
  if (!allowed) {
    if (input.whenCapped === 'skip') return finish('skipped', channel, 'frequency-cap');
    await outcome('deferred', channel, 'frequency-cap');
    return { status: 'deferred', reason: 'frequency-cap', retryAt: Date.now() + Math.ceil(cap.windowMs / cap.max) };
  }

  const to = address(customer, channel) as string;
  const messageId = messageIdFor(input.workflowId, input.stepId);
  let providerMessageId: string;
  try {
    const ctx = context(deps, input, customer, channel);
    if (channel === 'email') {
      const rendered = await deps.renderer.renderMessage(input.templateId, 'email', ctx);
      const sent = await deps.email.sendEmail({ to, subject: rendered.subject, html: rendered.html, text: rendered.text, messageId, unsubscribe: { url: ctx.unsubscribeLink } });
      providerMessageId = sent.messageId;
    } else {
      const rendered = await deps.renderer.renderMessage(input.templateId, 'sms', ctx);
      if (input.maxSmsSegments && rendered.segments > input.maxSmsSegments) {
        return finish('skipped', channel, `sms-too-long:${rendered.segments}-segments`);
      }
      providerMessageId = (await deps.sms.sendSms({ to, body: rendered.body, messageId })).providerMessageId;
    }
  } catch (err) {
    if (err instanceof TemplateError) return finish('skipped', channel, `template-error: ${err.message}`);
    if (!isDeliveryError(err) || err.kind === 'retryable') throw err;
    return undeliverable(deps, finish, channel, to, err);
  }
  await store.completeSend(input.workflowId, input.stepId, { status: 'sent', providerMessageId });
  await outcome('sent', channel, null, { providerMessageId });
  return { status: 'sent', channel, providerMessageId, duplicate: false };
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
