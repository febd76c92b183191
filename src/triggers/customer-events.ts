import { CustomerEventSchema, type CustomerEvent } from '../shared/messages';
import type { TriggerContext } from './context';
import { NotFoundError, parseInput } from './errors';
import { deliverCustomerEvent } from './journeys';

const ACTIVITY_EVENTS = new Set<CustomerEvent['type']>(['purchase', 'activation', 'login']);

/**
 * One customer event from any source (API, CLI, import): consent changes are stored at once, activity moves the
 * customer's last-activity time (what the win-back sweep reads), and the event reaches every running journey
 * by signal, or starts nurture with it (see deliverCustomerEvent).
 */
export async function recordCustomerEvent(
  ctx: TriggerContext,
  customerId: string,
  raw: unknown,
  at: Date = new Date(),
): Promise<{ event: CustomerEvent; deliveredTo: string[] }> {
  const event = parseInput(CustomerEventSchema, raw, 'customer event');
  if (!(await ctx.store.getCustomer(customerId))) throw new NotFoundError(`unknown customer ${customerId}`);
  if (event.type === 'unsubscribe' || event.type === 'resubscribe') {
    const granted = event.type === 'resubscribe';
    const channels = event.channel === 'all' ? (['email', 'sms'] as const) : [event.channel];
    for (const channel of channels) await ctx.store.setConsent(customerId, channel, granted);
  }
  if (ACTIVITY_EVENTS.has(event.type)) await ctx.store.touchActivity(customerId, at);
  const { deliveredTo } = await deliverCustomerEvent(ctx.client, ctx.catalog, ctx.taskQueue, customerId, event);
  return { event, deliveredTo };
}
