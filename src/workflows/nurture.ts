import { allHandlersFinished, condition, continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ForwardActivities } from '../shared/activity-contracts';
import { DAYS_365_MS, nextAnniversary } from '../shared/anniversary';
import type { CarriedState, JourneyInput, JourneyResult } from '../shared/journey-types';
import { pointsFor, tierFor, tierRank } from '../shared/loyalty';
import { activities, Journey, runJourney } from './journey';

/**
 * Issue 10 review fixes, which change commands of running journeys: wake on any customer event and on history size
 * (so continue-as-new is checked), stop instead of continuing as new after an "end" unsubscribe, calendar
 * anniversaries, and forwarding purchases that arrive during the hand-off to win-back.
 */
const reviewFixes = () => patched('nurture-review-fixes-10');

const { forwardCustomerEvents } = proxyActivities<ForwardActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Nurture, one long-lived workflow per customer: periodic touches, loyalty points and tiers from purchases
 * (with a tier-up message), anniversary milestones, and a hand-over to win-back once the customer has been
 * inactive past the threshold. Continues as new before history grows large, carrying its state.
 */
export async function nurtureWorkflow(input: JourneyInput): Promise<JourneyResult> {
  return runJourney(input, 'nurture', nurture);
}

async function nurture(journey: Journey<'nurture'>, input: JourneyInput): Promise<JourneyResult> {
  const def = journey.definition;
  const { customer, state } = journey;
  const now = Date.now();
  const anniversaryAfter = (after: number): number =>
    reviewFixes()
      ? nextAnniversary(def.anniversary, customer.createdAt, after, customer.timezone)
      : legacyNextAnniversary(customer.createdAt, def.anniversary.every ?? DAYS_365_MS, after);
  const historyFull = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= def.maxHistoryEvents;
  };
  const carried: CarriedState = input.carried ?? {
    messagesSent: 0,
    points: customer.points,
    tier: customer.tier,
    totalSpend: customer.totalSpend,
    lastActivityAt: journey.lastActivityAt,
    nextTouchAt: now + def.touch.every,
    nextAnniversaryAt: anniversaryAfter(now),
    muted: state.muted,
    generation: 0,
  };
  const loyalty = { points: carried.points, tier: carried.tier, totalSpend: carried.totalSpend };
  let { nextTouchAt, nextAnniversaryAt } = carried;
  const details = state.details;
  const show = () => {
    Object.assign(details, loyalty, { nextTouchAt, nextAnniversaryAt, generation: carried.generation });
  };
  show();

  let processed = 0;
  let eventsSeen = journey.eventsApplied;
  for (;;) {
    show();
    const fixed = reviewFixes();
    const inactiveAt = journey.lastActivityAt + def.inactivity.threshold;
    const wakeAt = Math.min(nextTouchAt, nextAnniversaryAt, inactiveAt);
    journey.setStep('waiting');
    const woken = () => fixed && (journey.eventsApplied > eventsSeen || historyFull());
    await journey.waitUntil(wakeAt, () => journey.purchases.length > processed || journey.stopRequested || woken());
    eventsSeen = journey.eventsApplied;
    if (journey.stopRequested) return journey.finish('unsubscribed');

    while (journey.purchases.length > processed) {
      const purchase = journey.purchases[processed++] as (typeof journey.purchases)[number];
      const before = loyalty.tier;
      const points = loyalty.points + pointsFor(purchase.amount, def.loyalty.pointsPerCurrencyUnit);
      const after = { points, totalSpend: loyalty.totalSpend + purchase.amount, tier: tierFor(points, def.loyalty.tiers) };
      const fact = { value: purchase.amount, data: { points: after.points, tier: after.tier } };
      // Keyed by the event: the same purchase is one row, whichever run or delivery records it, and earns points once.
      const factKey = purchase.eventId === undefined ? undefined : `purchase/${customer.id}/${purchase.eventId}`;
      if (factKey !== undefined && patched('purchase-counted-once')) {
        if (!(await journey.record('purchase', { ...fact, factKey }))) continue;
        Object.assign(loyalty, after);
        customer.tier = loyalty.tier;
        await activities.saveLoyalty({ customerId: customer.id, ...loyalty, lastActivityAt: purchase.at });
      } else {
        Object.assign(loyalty, after);
        customer.tier = loyalty.tier;
        await activities.saveLoyalty({ customerId: customer.id, ...loyalty, lastActivityAt: purchase.at });
        await journey.record('purchase', { ...fact, factKey });
      }
      if (tierRank(loyalty.tier, def.loyalty.tiers) > tierRank(before, def.loyalty.tiers)) {
        await journey.record('tier_up', { reason: `${before}->${loyalty.tier}` });
        await journey.send({ id: `tier-up-${loyalty.tier}`, template: def.loyalty.tierUpTemplate, channel: 'preferred', fallback: true });
      }
    }

    const t = Date.now();
    if (t >= journey.lastActivityAt + def.inactivity.threshold) {
      details.inactiveSince = journey.lastActivityAt;
      await journey.handOff('winback', `inactive since ${new Date(journey.lastActivityAt).toISOString()}`);
      const result = await journey.finish('lapsed');
      if (fixed) await forwardPurchases(journey, processed);
      return result;
    }
    if (t >= nextAnniversaryAt) {
      await journey.send({ id: `anniversary-${new Date(nextAnniversaryAt).toISOString().slice(0, 10)}`, template: def.anniversary.template, channel: 'preferred', fallback: true });
      nextAnniversaryAt = fixed ? anniversaryAfter(t) : nextAnniversaryAt + (def.anniversary.every ?? DAYS_365_MS);
    }
    if (t >= nextTouchAt) {
      await journey.send({ id: `touch-${new Date(nextTouchAt).toISOString().slice(0, 10)}`, template: def.touch.template, channel: def.touch.channel, fallback: true });
      nextTouchAt += def.touch.every;
    }

    if (historyFull()) {
      await condition(allHandlersFinished);
      // An "end" unsubscribe that came during this iteration's activities: the next run would not know of it.
      if (fixed && journey.stopRequested) return journey.finish('unsubscribed');
      // Events that arrived but were not yet applied would be lost: apply them first (loop again).
      if (journey.purchases.length > processed) continue;
      await continueAsNew<typeof nurtureWorkflow>({
        ...input,
        carried: {
          ...loyalty,
          messagesSent: state.messagesSent,
          lastActivityAt: journey.lastActivityAt,
          nextTouchAt,
          nextAnniversaryAt,
          muted: state.muted,
          generation: carried.generation + 1,
          seenEventIds: journey.seenEventIds,
          preferredChannel: customer.preferredChannel,
        },
      });
    }
  }
}

/**
 * Passes the purchases that came during the hand-off (after the inactivity check) on to win-back, where they win the
 * customer back. Last thing before the workflow completes: win-back then hands the customer back to nurture, and
 * finds this run closed (or, rarely, still closing: then its hand-off sees nurture running and starts none).
 */
async function forwardPurchases(journey: Journey<'nurture'>, processed: number): Promise<void> {
  const workflowId = journey.state.details.handedOffTo;
  if (typeof workflowId !== 'string') return;
  for (let forwarded = processed; journey.purchases.length > forwarded; ) {
    const events = journey.purchases.slice(forwarded).map(({ amount, orderId, eventId }) => ({ type: 'purchase' as const, amount, orderId, eventId }));
    forwarded = journey.purchases.length;
    await forwardCustomerEvents({ workflowId, events });
  }
}

/** Before the review fixes: every `every` ms from signup, the first one possibly at `now` itself. */
function legacyNextAnniversary(createdAt: number, every: number, now: number): number {
  if (createdAt + every > now) return createdAt + every;
  return createdAt + Math.ceil((now - createdAt) / every) * every;
}
