import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { CarriedState, JourneyInput, JourneyResult } from '../shared/journey-types';
import { pointsFor, tierFor, tierRank } from '../shared/loyalty';
import { activities, Journey, runJourney } from './journey';

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
  const carried: CarriedState = input.carried ?? {
    messagesSent: 0,
    points: customer.points,
    tier: customer.tier,
    totalSpend: customer.totalSpend,
    lastActivityAt: journey.lastActivityAt,
    nextTouchAt: now + def.touch.every,
    nextAnniversaryAt: nextAnniversary(customer.createdAt, def.anniversary.every, now),
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
  for (;;) {
    show();
    const inactiveAt = journey.lastActivityAt + def.inactivity.threshold;
    const wakeAt = Math.min(nextTouchAt, nextAnniversaryAt, inactiveAt);
    journey.setStep('waiting');
    await journey.waitUntil(wakeAt, () => journey.purchases.length > processed || journey.stopRequested);
    if (journey.stopRequested) return journey.finish('unsubscribed');

    while (journey.purchases.length > processed) {
      const purchase = journey.purchases[processed++] as { amount: number; at: number };
      const before = loyalty.tier;
      loyalty.points += pointsFor(purchase.amount, def.loyalty.pointsPerCurrencyUnit);
      loyalty.totalSpend += purchase.amount;
      loyalty.tier = tierFor(loyalty.points, def.loyalty.tiers);
      customer.tier = loyalty.tier;
      await activities.saveLoyalty({ customerId: customer.id, ...loyalty, lastActivityAt: purchase.at });
      await journey.record('purchase', { value: purchase.amount, data: { points: loyalty.points, tier: loyalty.tier } });
      if (tierRank(loyalty.tier, def.loyalty.tiers) > tierRank(before, def.loyalty.tiers)) {
        await journey.record('tier_up', { reason: `${before}->${loyalty.tier}` });
        await journey.send({ id: `tier-up-${loyalty.tier}`, template: def.loyalty.tierUpTemplate, channel: 'preferred', fallback: true });
      }
    }

    const t = Date.now();
    if (t >= journey.lastActivityAt + def.inactivity.threshold) {
      details.inactiveSince = journey.lastActivityAt;
      await journey.handOff('winback', `inactive since ${new Date(journey.lastActivityAt).toISOString()}`);
      return journey.finish('lapsed');
    }
    if (t >= nextAnniversaryAt) {
      await journey.send({ id: `anniversary-${new Date(nextAnniversaryAt).toISOString().slice(0, 10)}`, template: def.anniversary.template, channel: 'preferred', fallback: true });
      nextAnniversaryAt += def.anniversary.every;
    }
    if (t >= nextTouchAt) {
      await journey.send({ id: `touch-${new Date(nextTouchAt).toISOString().slice(0, 10)}`, template: def.touch.template, channel: def.touch.channel, fallback: true });
      nextTouchAt += def.touch.every;
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= def.maxHistoryEvents) {
      await condition(allHandlersFinished);
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
        },
      });
    }
  }
}

function nextAnniversary(createdAt: number, every: number, now: number): number {
  if (createdAt + every > now) return createdAt + every;
  return createdAt + Math.ceil((now - createdAt) / every) * every;
}
