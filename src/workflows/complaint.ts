import { patched, setHandler } from '@temporalio/workflow';
import type { JourneyInput, JourneyResult } from '../shared/journey-types';
import { supportUpdateSignal, type SupportUpdate } from '../shared/messages';
import { activities, Journey, runJourney } from './journey';

/**
 * Complaint resolution: acknowledge at once, keep the SLA timers (shorter for core customers) and escalate when
 * one lapses, relay support updates, and after resolution ask for CSAT; a low rating triggers a recovery offer.
 */
export async function complaintWorkflow(input: JourneyInput): Promise<JourneyResult> {
  return runJourney(input, 'complaint', complaint);
}

async function complaint(journey: Journey<'complaint'>, input: JourneyInput): Promise<JourneyResult> {
  const def = journey.definition;
  const ticket = input.ticket ?? { id: journey.workflowId };
  const openedAt = Date.now();
  const core = def.coreTiers.includes(journey.customer.tier);
  const sla = core ? def.coreSla : def.sla;
  const details = journey.state.details;
  details.ticketId = ticket.id;
  details.coreCustomer = core;
  details.firstResponseDueAt = openedAt + sla.firstResponse;
  details.resolutionDueAt = openedAt + sla.resolution;

  const updates: SupportUpdate[] = [];
  let firstResponseAt: number | undefined;
  let resolvedAt: number | undefined;
  setHandler(supportUpdateSignal, (update) => {
    // The support system retries: an update it sends twice (same event id) is relayed once.
    if (!journey.firstDelivery(update.eventId)) return;
    updates.push(update);
    firstResponseAt ??= Date.now();
    if (update.type === 'resolved') resolvedAt ??= Date.now();
  });

  const t = def.templates;
  const step = (id: string, template: string) => ({ id, template, channel: 'preferred' as const, fallback: true });
  await journey.send(step('acknowledge', t.acknowledge), { ticket: { ...ticket, status: 'open' } });

  const escalated = { 'first-response-sla': false, 'resolution-sla': false };
  const escalate = async (reason: keyof typeof escalated, deadline: number) => {
    escalated[reason] = true;
    details.escalations = Object.values(escalated).filter(Boolean).length;
    const webhook = await activities.escalate({ workflowId: journey.workflowId, runId: journey.runId, customerId: journey.customer.id, ticketId: ticket.id, reason, deadline });
    // What became of the call, for ops: a refused escalation does not end the journey. (Undefined in histories
    // recorded before the activity reported it.)
    await journey.record('escalated', { reason, data: webhook && { webhook }, factKey: `${journey.runKey}/escalated/${reason}` });
    await journey.send(step(`escalated-${reason}`, t.escalated), { ticket: { ...ticket, status: 'escalated' } });
  };

  let relayed = 0;
  // Updates that came with (or before) the resolution are relayed too: support may send them all at once, even while
  // the acknowledgement is still going out. (Runs from before this was patched stop at the resolution, as they did.)
  const unrelayed = () => updates.length > relayed && patched('relay-updates-that-came-with-the-resolution');
  while (resolvedAt === undefined || unrelayed()) {
    journey.setStep(firstResponseAt === undefined ? 'awaiting-first-response' : 'awaiting-resolution');
    const deadlines = [
      !escalated['first-response-sla'] && firstResponseAt === undefined ? (details.firstResponseDueAt as number) : Infinity,
      !escalated['resolution-sla'] ? (details.resolutionDueAt as number) : Infinity,
    ];
    const next = Math.min(...deadlines);
    const woke = await journey.waitUntil(next, () => updates.length > relayed);
    if (!woke) {
      if (next === deadlines[0]) await escalate('first-response-sla', next);
      else await escalate('resolution-sla', next);
      continue;
    }
    while (updates.length > relayed) {
      const update = updates[relayed++] as SupportUpdate;
      // Whatever support sends first (a reply, an update, or straight away the resolution) is the first response.
      if (relayed === 1) {
        await journey.record('first_response', { value: (firstResponseAt as number) - openedAt, factKey: `${journey.runKey}/first_response` });
      }
      if (update.type !== 'resolved') {
        await journey.send(step(`update-${relayed}`, t.update), { ticket: { ...ticket, status: 'in-progress', note: update.note } });
      }
    }
  }

  details.timeToFirstResponseMs = (firstResponseAt as number) - openedAt;
  details.timeToResolutionMs = resolvedAt - openedAt;
  journey.setStep('resolved');
  await journey.record('resolved', { value: resolvedAt - openedAt, data: { timeToFirstResponseMs: details.timeToFirstResponseMs }, factKey: `${journey.runKey}/resolved` });
  await journey.send(step('resolved', t.resolved), { ticket: { ...ticket, status: 'resolved' } });

  const answer = await journey.askSurvey('csat', step('csat-survey', t.survey), { ticket: { ...ticket, status: 'resolved' } }, def.csat.timeout);
  if (!answer) {
    await journey.record('csat_timeout', { factKey: `${journey.runKey}/csat_timeout` });
  } else {
    details.csat = answer.rating;
    await journey.record('csat', { value: answer.rating, data: answer.comment ? { comment: answer.comment } : undefined, factKey: `${journey.runKey}/csat` });
    if (answer.rating <= def.csat.lowRatingAtMost) {
      const offer = journey.offer(def.recoveryOffer.discountPercent, def.recoveryOffer.validFor, Date.now());
      details.recoveryOfferCode = offer.code;
      await journey.send(step('recovery', t.recovery), { ticket: { ...ticket, status: 'resolved' }, offer });
      await journey.record('recovery', { value: answer.rating, data: { offerCode: offer.code }, factKey: `${journey.runKey}/recovery` });
    }
  }
  // The `resolved` outcome row was written at resolution time, with its duration.
  return journey.finish('resolved', {}, { record: false });
}
