import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { CampaignCatalog } from '../campaigns/catalog';
import { UserFacingError } from '../cli-errors';
import type { CustomerSnapshot, EscalationInput, HandOffInput, JourneyActivities, OutcomeInput } from '../shared/activity-contracts';
import { journeyWorkflowId, startJourney } from '../triggers/journeys';
import type { OutcomeStatus } from '../store';
import { sendMessage, type SendDeps } from './send-message';

export interface JourneyDeps extends SendDeps {
  /** Used by hand-offs between stages. */
  temporal: { client: Client; taskQueue: string; catalog: CampaignCatalog };
  escalationWebhookUrl?: string;
  fetch?: typeof fetch;
}

export function journeyActivities(deps: JourneyDeps): JourneyActivities {
  const { store } = deps;
  return {
    async loadCustomer(customerId: string): Promise<CustomerSnapshot | undefined> {
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
    },

    sendMessage: (input) => sendMessage(deps, input),

    async recordOutcome(o: OutcomeInput): Promise<void> {
      await store.recordOutcome({
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
    },

    async saveLoyalty(input): Promise<void> {
      await store.updateLoyalty(input.customerId, { points: input.points, tier: input.tier, totalSpend: input.totalSpend });
      await store.touchActivity(input.customerId, new Date(input.lastActivityAt));
    },

    async escalate(input: EscalationInput): Promise<void> {
      if (!deps.escalationWebhookUrl) return;
      const response = await (deps.fetch ?? fetch)(deps.escalationWebhookUrl, {
        method: 'POST',
        // The support system sees a retried call as the same escalation.
        headers: { 'content-type': 'application/json', 'idempotency-key': `${input.workflowId}/${input.runId ?? ''}/${input.reason}` },
        body: JSON.stringify({ ...input, deadline: new Date(input.deadline).toISOString() }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        throw ApplicationFailure.nonRetryable(`escalation webhook refused the call: HTTP ${response.status}`, 'EscalationRefused');
      }
      if (!response.ok) throw new Error(`escalation webhook answered HTTP ${response.status}`);
    },

    async handOff(input: HandOffInput) {
      const { client, taskQueue, catalog } = deps.temporal;
      try {
        return await startJourney(client, catalog, taskQueue, { stage: input.to, customerId: input.customerId });
      } catch (err) {
        // The target stage's re-entry rule refuses another run: the customer stays where that stage left them.
        if (err instanceof UserFacingError) return { workflowId: journeyWorkflowId(input.to, input.customerId), started: false };
        throw err;
      }
    },
  };
}
