import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { JourneyActivities, MessageExtras, SendMessageResult, CustomerSnapshot, OutcomeInput } from '../shared/activity-contracts';
import { assign, fnv1a } from '../shared/assignment';
import { CampaignDefinitionSchema, type CampaignStep, type DefinitionOf, type Stage } from '../shared/campaign-definition';
import type { Channel, JourneyInput, JourneyOutcome, JourneyResult, JourneyState } from '../shared/journey-types';
import {
  customerEventSignal,
  journeyStateQuery,
  submitSurveyUpdate,
  SurveyAnswerSchema,
  surveyAnswerSignal,
  type CustomerEvent,
  type SurveyAnswer,
} from '../shared/messages';
import { nextSendableTime } from '../shared/quiet-hours';
import { CampaignStepKey, OutcomeKey } from '../shared/search-attributes';

export const activities = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** How often a frequency-capped message may be deferred before the step is given up. */
const MAX_DEFERRALS = 5;

export type SendableStep = Pick<CampaignStep, 'id' | 'template' | 'channel' | 'fallback' | 'variantTemplates' | 'maxSmsSegments'>;

/**
 * One customer's conversation in one stage: the state every stage shares (assignment, consent, counters,
 * customer events) and the steps they are built from (send, wait, record, finish). Workflow-side only.
 */
export class Journey<S extends Stage> {
  readonly workflowId = workflowInfo().workflowId;
  readonly state: JourneyState;
  readonly purchases: { amount: number; at: number }[] = [];
  readonly surveyAnswers: SurveyAnswer[] = [];
  activated = false;
  lastActivityAt: number;
  /** Unsubscribed with onUnsubscribe "end": the stage should wrap up. */
  stopRequested = false;
  awaitingSurvey?: SurveyAnswer['survey'];

  private constructor(
    readonly definition: DefinitionOf<S>,
    readonly customer: CustomerSnapshot,
    readonly input: JourneyInput,
  ) {
    const { holdout, variant } = assign(customer.id, definition.id, definition.holdoutPercent, definition.variants);
    this.lastActivityAt = input.carried?.lastActivityAt ?? customer.lastActivityAt ?? Date.now();
    const noConsent = !customer.consent.email && !customer.consent.sms;
    this.state = {
      stage: definition.stage as S,
      customerId: customer.id,
      campaignId: definition.id,
      campaignVersion: definition.version,
      variant,
      holdout,
      currentStep: 'start',
      messagesSent: input.carried?.messagesSent ?? 0,
      messagesSkipped: 0,
      outcome: 'in-progress',
      muted: input.carried?.muted ?? noConsent,
      details: {},
    };
  }

  /** Validates the definition again (a workflow never runs an invalid campaign), loads the customer, wires handlers. */
  static async begin<S extends Stage>(input: JourneyInput, stage: S): Promise<Journey<S>> {
    const parsed = CampaignDefinitionSchema.safeParse(input.definition);
    if (!parsed.success || parsed.data.stage !== stage) {
      const problems = parsed.success
        ? [`stage: expected "${stage}", got "${parsed.data.stage}"`]
        : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw ApplicationFailure.nonRetryable(`invalid campaign definition: ${problems.join('; ')}`, 'InvalidCampaignDefinition');
    }
    const customer = await activities.loadCustomer(input.customerId);
    if (!customer) {
      throw ApplicationFailure.nonRetryable(`unknown customer ${input.customerId}`, 'UnknownCustomer');
    }
    const journey = new Journey(parsed.data as DefinitionOf<S>, customer, input);
    journey.registerHandlers();
    upsertSearchAttributes([
      { key: OutcomeKey, value: 'in-progress' },
      { key: CampaignStepKey, value: 'start' },
    ]);
    journey.updateMemo();
    if (!input.carried) {
      await journey.record('entered', { data: { campaignVersion: parsed.data.version } });
    }
    return journey;
  }

  private registerHandlers(): void {
    setHandler(journeyStateQuery, () => this.state);
    setHandler(customerEventSignal, (event) => this.onCustomerEvent(event));
    setHandler(surveyAnswerSignal, (answer) => this.onSurveyAnswer(answer));
    setHandler(
      submitSurveyUpdate,
      (answer) => {
        this.onSurveyAnswer(answer);
        return { accepted: true };
      },
      {
        validator: (answer) => {
          SurveyAnswerSchema.parse(answer);
          if (this.awaitingSurvey !== answer.survey) {
            throw new Error(`this journey is not waiting for a ${answer.survey} answer`);
          }
        },
      },
    );
  }

  private onCustomerEvent(event: CustomerEvent): void {
    const now = Date.now();
    switch (event.type) {
      case 'purchase':
        this.purchases.push({ amount: event.amount, at: now });
        this.lastActivityAt = now;
        break;
      case 'activation':
        this.activated = true;
        this.lastActivityAt = now;
        break;
      case 'login':
        this.lastActivityAt = now;
        break;
      case 'unsubscribe':
      case 'resubscribe': {
        const granted = event.type === 'resubscribe';
        if (event.channel !== 'sms') this.customer.consent.email = granted;
        if (event.channel !== 'email') this.customer.consent.sms = granted;
        const noConsent = !this.customer.consent.email && !this.customer.consent.sms;
        if (noConsent && this.definition.onUnsubscribe === 'end') this.stopRequested = true;
        this.state.muted = noConsent;
        break;
      }
      case 'channel-preference':
        this.customer.preferredChannel = event.channel;
        break;
    }
  }

  private onSurveyAnswer(answer: SurveyAnswer): void {
    this.surveyAnswers.push(answer);
  }

  get outcomeFields(): Omit<OutcomeInput, 'status' | 'occurredAt'> {
    return {
      customerId: this.customer.id,
      stage: this.state.stage,
      campaignId: this.definition.id,
      workflowId: this.workflowId,
      variant: this.state.variant,
      holdout: this.state.holdout,
    };
  }

  async record(status: string, extra: Partial<Pick<OutcomeInput, 'reason' | 'value' | 'data' | 'channel' | 'step'>> = {}): Promise<void> {
    await activities.recordOutcome({ ...this.outcomeFields, step: this.state.currentStep, ...extra, status, occurredAt: Date.now() });
  }

  setStep(step: string): void {
    this.state.currentStep = step;
    upsertSearchAttributes([{ key: CampaignStepKey, value: step }]);
    this.updateMemo();
  }

  /**
   * Waits until `predicate` holds or `ms` pass; true when the predicate won. Each wait is a durable timer,
   * so a journey asleep for weeks costs nothing and survives restarts.
   */
  async waitFor(ms: number, predicate: () => boolean): Promise<boolean> {
    if (predicate()) return true;
    if (ms === Infinity) {
      await condition(predicate);
      return true;
    }
    if (ms <= 0) return false;
    this.state.nextActionAt = Date.now() + ms;
    try {
      return await condition(predicate, ms);
    } finally {
      this.state.nextActionAt = undefined;
    }
  }

  waitUntil(at: number, predicate: () => boolean): Promise<boolean> {
    return this.waitFor(at - Date.now(), predicate);
  }

  private chooseChannel(choice: CampaignStep['channel']): Channel {
    return choice === 'preferred' ? this.customer.preferredChannel : choice;
  }

  /**
   * Sends one message of the campaign, unless the customer is held out or muted. SMS waits for the end of the
   * customer's quiet hours; a frequency-capped message waits for the slot the store names. The activity checks
   * consent, renders, and writes the ledger and the outcome row.
   */
  async send(step: SendableStep, extras: MessageExtras = {}, stepKey: string = step.id): Promise<SendMessageResult> {
    this.setStep(step.id);
    const template = step.variantTemplates?.[this.state.variant] ?? step.template;
    if (this.state.holdout || this.state.muted) {
      const reason = this.state.holdout ? 'holdout' : 'unsubscribed';
      this.state.messagesSkipped++;
      await this.record('skipped', { reason, step: step.id, data: { template } });
      return { status: 'skipped', reason };
    }
    const channel = this.chooseChannel(step.channel);
    if (channel === 'sms') {
      const opensAt = nextSendableTime(Date.now(), this.customer.timezone, this.definition.quietHours);
      if (opensAt > Date.now()) {
        this.state.details.waitingForQuietHoursUntil = opensAt;
        await this.waitUntil(opensAt, () => this.stopRequested);
        this.state.details.waitingForQuietHoursUntil = undefined;
        if (this.stopRequested) return { status: 'skipped', reason: 'unsubscribed' };
      }
    }
    let result: SendMessageResult = { status: 'skipped', reason: 'not-attempted' };
    for (let attempt = 0; attempt <= MAX_DEFERRALS; attempt++) {
      result = await activities.sendMessage({
        ...this.outcomeFields,
        stepId: stepKey,
        step: step.id,
        channel,
        fallback: step.fallback,
        templateId: template,
        extras,
        whenCapped: attempt < MAX_DEFERRALS ? this.definition.whenCapped : 'skip',
        maxSmsSegments: step.maxSmsSegments,
        quietHours: this.definition.quietHours,
      });
      if (result.status !== 'deferred') break;
      await this.waitUntil(result.retryAt, () => this.stopRequested);
      if (this.stopRequested) break;
    }
    if (result.status === 'sent') this.state.messagesSent++;
    else this.state.messagesSkipped++;
    this.updateMemo();
    return result;
  }

  /** Offer fields for a template, fixed per workflow so a retried send shows the same code. */
  offer(discountPercent: number, validForMs: number, issuedAt: number): NonNullable<MessageExtras['offer']> {
    const code = `${this.state.stage.slice(0, 2).toUpperCase()}-${fnv1a(this.workflowId).toString(36).toUpperCase()}`;
    return { code, discountPercent, expiresAt: new Date(issuedAt + validForMs).toISOString() };
  }

  /** Waits for an answer to `survey`, at most `ms`. */
  async awaitSurvey<K extends SurveyAnswer['survey']>(survey: K, ms: number): Promise<Extract<SurveyAnswer, { survey: K }> | undefined> {
    this.awaitingSurvey = survey;
    const find = () => this.surveyAnswers.find((a): a is Extract<SurveyAnswer, { survey: K }> => a.survey === survey);
    await this.waitFor(ms, () => find() !== undefined);
    this.awaitingSurvey = undefined;
    return find();
  }

  async handOff(to: Stage, reason: string): Promise<void> {
    const { workflowId } = await activities.handOff({ customerId: this.customer.id, to, from: this.state.stage, reason });
    this.state.details.handedOffTo = workflowId;
  }

  /** Records the final outcome, keeps search attributes and memo current, and returns the workflow result. */
  async finish(outcome: JourneyOutcome, extra: Parameters<Journey<S>['record']>[1] = {}, options = { record: true }): Promise<JourneyResult> {
    this.state.outcome = outcome;
    this.state.nextActionAt = undefined;
    upsertSearchAttributes([{ key: OutcomeKey, value: outcome }]);
    this.updateMemo();
    if (options.record) await this.record(outcome.replace('-', '_'), extra);
    return { outcome, messagesSent: this.state.messagesSent, details: this.state.details };
  }

  private updateMemo(): void {
    const s = this.state;
    upsertMemo({
      summary:
        `${s.stage} for ${this.customer.name} (${s.customerId}): step ${s.currentStep}, ${s.messagesSent} sent, ` +
        `${s.outcome}${s.holdout ? ', holdout' : ''}${s.muted ? ', muted' : ''}, variant ${s.variant}`,
    });
  }
}

/**
 * Begins the journey and runs a stage's body on it. A cancellation (`retention cancel`, `POST /journeys/:id/cancel`,
 * or the Web UI) is recorded as a `cancelled` outcome before the workflow ends CANCELLED, so reports see why the
 * journey stopped.
 */
export async function runJourney<S extends Stage>(
  input: JourneyInput,
  stage: S,
  body: (journey: Journey<S>, input: JourneyInput) => Promise<JourneyResult>,
): Promise<JourneyResult> {
  const journey = await Journey.begin(input, stage);
  try {
    return await body(journey, input);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        journey.state.outcome = 'cancelled';
        upsertSearchAttributes([{ key: OutcomeKey, value: 'cancelled' }]);
        await journey.record('cancelled', { reason: 'cancelled by request' });
      });
    }
    throw err;
  }
}
