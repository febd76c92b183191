import type { JourneyInput, JourneyResult } from '../shared/journey-types';
import { Journey, runJourney } from './journey';

/**
 * Lapsed win-back: "we miss you", an offer with a code and an expiry, a last chance. A purchase at any point
 * wins the customer back (and returns them to nurture); otherwise they churn, after a one-question survey.
 */
export async function winbackWorkflow(input: JourneyInput): Promise<JourneyResult> {
  return runJourney(input, 'winback', winback);
}

async function winback(journey: Journey<'winback'>): Promise<JourneyResult> {
  const def = journey.definition;
  const purchased = () => journey.purchases.length > 0 || journey.stopRequested;
  const offer = journey.offer(def.offer.discountPercent, def.offer.validFor, Date.now());
  journey.state.details.offerCode = offer.code;
  journey.state.details.offerExpiresAt = offer.expiresAt;

  for (const step of def.steps) {
    if (await journey.waitFor(step.after, purchased)) break;
    await journey.send(step, step.includeOffer ? { offer } : {});
  }
  await journey.waitFor(def.finalWait, purchased);

  const purchase = journey.purchases[0];
  if (purchase) {
    journey.state.details.wonBackWithAmount = purchase.amount;
    await journey.handOff('nurture', 'won back');
    return journey.finish('won-back', { value: purchase.amount });
  }
  if (journey.stopRequested) return journey.finish('unsubscribed');

  const survey = { id: 'churn-survey', template: def.churnSurvey.template, channel: 'preferred' as const, fallback: true };
  const reasons = def.churnSurvey.reasons.map((r) => r.key);
  // Only the campaign's own reasons: the churned outcome's reason is what reports count.
  const notListed = (a: { reason: string }) => (reasons.includes(a.reason) ? undefined : `reason: expected one of ${reasons.join(', ')}`);
  const answer = await journey.askSurvey('churn-reason', survey, {}, def.churnSurvey.timeout, notListed);
  const reason = answer?.reason ?? 'no-answer';
  journey.state.details.churnReason = reason;
  return journey.finish('churned', { reason, ...(answer?.comment !== undefined && { data: { comment: answer.comment } }) });
}
