import { ApplicationFailure, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { CampaignCatalog } from '../campaigns/catalog';
import { UserFacingError } from '../cli-errors';
import type { CustomerSnapshot, EscalationInput, EscalationResult, HandOffInput, JourneyActivities, JourneyEntryInput, OutcomeInput } from '../shared/activity-contracts';
import { journeyWorkflowId, startJourney } from '../triggers/journeys';
import type { OutcomeStatus } from '../store';
import { journeyStateQuery } from '../shared/messages';
import { heartbeat } from './heartbeat';
import { sendMessage, type SendDeps } from './send-message';

export interface JourneyDeps extends SendDeps {
  /** Used by hand-offs between stages. */
  temporal: { client: Client; taskQueue: string; catalog: CampaignCatalog };
  escalationWebhookUrl?: string;
  fetch?: typeof fetch;
  /** How long a hand-off waits for the journey that handed the customer over to close (default 20 s). */
  handBackWaitMs?: number;
}

export function journeyActivities(deps: JourneyDeps): JourneyActivities {
  const { store } = deps;
  const loadCustomer = async (customerId: string): Promise<CustomerSnapshot | undefined> => {
    const c = await store.getCustomer(customerId);
    if (!c) return undefined;
    return {
      id: c.id,
      name: c.name,
      tier: c.tier,
      points: c.points,
      totalSpend: c.totalSpend,
      timezone: c.timezone,
      preferredChannel: c.preferredChannel,
      consent: { email: c.consentEmail, sms: c.consentSms },
      hasEmail: Boolean(c.email),
      hasPhone: Boolean(c.phone),
      createdAt: c.createdAt.getTime(),
      lastActivityAt: c.lastActivityAt.getTime(),
    };
  };
  const recordOutcome = async (o: OutcomeInput): Promise<boolean> => {
    const { created } = await store.recordFact({
      ...o,
      step: o.step ?? '',
      status: o.status as OutcomeStatus,
      channel: o.channel ?? null,
      reason: o.reason ?? null,
      value: o.value ?? null,
      occurredAt: new Date(o.occurredAt),
      data: o.data ?? null,
      factKey: o.factKey ?? null,
    });
    return created;
  };
  return {
    loadCustomer,

    async enterJourney(input: JourneyEntryInput): Promise<CustomerSnapshot | undefined> {
      const customer = await loadCustomer(input.customerId);
      if (customer && input.entered) await recordOutcome(input.entered);
      return customer;
    },

    sendMessage: (input) => sendMessage(deps, input),

    recordOutcome,

    async saveLoyalty(input): Promise<void> {
      await store.updateLoyalty(input.customerId, { points: input.points, tier: input.tier, totalSpend: input.totalSpend });
      await store.touchActivity(input.customerId, new Date(input.lastActivityAt));
    },

    async escalate(input: EscalationInput): Promise<EscalationResult> {
      if (!deps.escalationWebhookUrl) return { status: 'not-configured' };
      const response = await (deps.fetch ?? fetch)(deps.escalationWebhookUrl, {
        method: 'POST',
        // The support system sees a retried call as the same escalation.
        headers: { 'content-type': 'application/json', 'idempotency-key': `${input.workflowId}/${input.runId ?? ''}/${input.reason}` },
        body: JSON.stringify({ ...input, deadline: new Date(input.deadline).toISOString() }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return { status: 'delivered' };
      // Refused for good: the customer's complaint journey must not fail over the support endpoint. It records the
      // refusal on its `escalated` outcome and goes on.
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        log.warn('escalation webhook refused the call', { workflowId: input.workflowId, reason: input.reason, httpStatus: response.status });
        return { status: 'refused', httpStatus: response.status };
      }
      throw new Error(`escalation webhook answered HTTP ${response.status}`);
    },

    /**
     * Starts the target stage. When its journey is still running because it is the very one that handed the
     * customer to the caller (nurture forwarded a purchase to win-back and has not closed yet), waits for it to close
     * and starts the new run: otherwise the customer would be left in no stage.
     */
    async handOff(input: HandOffInput) {
      const { client, taskQueue, catalog } = deps.temporal;
      const request = { stage: input.to, customerId: input.customerId };
      try {
        const started = await startJourney(client, catalog, taskQueue, request);
        if (started.started || !(await handsOverTo(client, started.workflowId, journeyWorkflowId(input.from, input.customerId)))) return started;
        await waitUntilClosed(client, started.workflowId, deps.handBackWaitMs ?? 20_000);
        return await startJourney(client, catalog, taskQueue, request);
      } catch (err) {
        // The target stage's re-entry rule refuses another run: the customer stays where that stage left them.
        if (err instanceof UserFacingError) return { workflowId: journeyWorkflowId(input.to, input.customerId), started: false };
        throw err;
      }
    },
  };
}

/** True when the running journey `workflowId` has handed its customer over to `to` (it is closing). */
async function handsOverTo(client: Client, workflowId: string, to: string): Promise<boolean> {
  const state = await client
    .withDeadline(Date.now() + 5_000, () => client.workflow.getHandle(workflowId).query(journeyStateQuery))
    .catch(() => undefined);
  return state?.details.handedOffTo === to;
}

/** Waits for the journey to close; still running after `ms`: a retryable failure (the activity tries again). */
async function waitUntilClosed(client: Client, workflowId: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING') {
    if (Date.now() > deadline) throw ApplicationFailure.retryable(`${workflowId} handed the customer over but has not closed yet`, 'HandBackPending');
    heartbeat();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
