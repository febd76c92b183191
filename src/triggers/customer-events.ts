import { messageSchemas, type CustomerEvent } from '../shared/messages';
import type { ConsentProvenance } from '../store';
import type { TriggerContext } from './context';
import { NotFoundError, parseInput } from './errors';
import { customerEventId, type EventIdSources } from './event-ids';
import { deliverCustomerEvent } from './journeys';

/**
 * Why an email address is suppressed after its owner's one-click unsubscribe: no customer record with the same address
 * is mailed (as SMS STOP does for a number). The owner's own resubscribe lifts it.
 */
export const EMAIL_UNSUBSCRIBE_REASON = 'email-unsubscribe';

const ACTIVITY_EVENTS = new Set<CustomerEvent['type']>(['purchase', 'activation', 'login']);

/**
 * One customer event from any source (API, CLI, import): consent changes and channel preferences are stored at once
 * (every journey and a continued-as-new run read them from the store), activity moves the
 * customer's last-activity time (what the win-back sweep reads), and the event reaches every running journey
 * by signal, or starts nurture with it (see deliverCustomerEvent).
 */
export async function recordCustomerEvent(
  ctx: TriggerContext,
  customerId: string,
  raw: unknown,
  at: Date = new Date(),
  sources: EventIdSources = {},
  provenance: ConsentProvenance = { source: 'event' },
): Promise<{ event: CustomerEvent; deliveredTo: string[] }> {
  const event = await storeCustomerEvent(ctx, customerId, raw, at, sources, provenance);
  const { deliveredTo } = await deliverCustomerEvent(ctx.client, ctx.catalog, ctx.taskQueue, customerId, event);
  return { event, deliveredTo };
}

/**
 * The store's part of a customer event (consent, channel preference, last activity): validated, with the event id
 * the journeys will apply it under; a consent change is kept with its provenance. The journeys are not told: the caller
 * delivers the returned event.
 */
export async function storeCustomerEvent(
  ctx: Pick<TriggerContext, 'store'>,
  customerId: string,
  raw: unknown,
  at: Date = new Date(),
  sources: EventIdSources = {},
  provenance: ConsentProvenance = { source: 'event' },
): Promise<CustomerEvent & { eventId: string }> {
  const parsed = parseInput(messageSchemas().customerEvent, raw, 'customer event');
  const event = { ...parsed, eventId: customerEventId(parsed, sources) };
  const customer = await ctx.store.getCustomer(customerId);
  if (!customer) throw new NotFoundError(`unknown customer ${customerId}`);
  if (event.type === 'unsubscribe' || event.type === 'resubscribe') {
    const granted = event.type === 'resubscribe';
    const channels = event.channel === 'all' ? (['email', 'sms'] as const) : [event.channel];
    for (const channel of channels) await ctx.store.setConsent(customerId, channel, granted, provenance, at);
    if (granted && channels.includes('email') && customer.email) await ctx.store.unsuppress('email', customer.email, [EMAIL_UNSUBSCRIBE_REASON]);
  }
  if (event.type === 'channel-preference') await ctx.store.setPreferredChannel(customerId, event.channel);
  if (ACTIVITY_EVENTS.has(event.type)) await ctx.store.touchActivity(customerId, at);
  return event;
}
