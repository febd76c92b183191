import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { JourneyActivities, JourneyEntryInput, MessageExtras, SendMessageResult, CustomerSnapshot, OutcomeInput } from '../shared/activity-contracts';
import { assign, fnv1a, type Assignment } from '../shared/assignment';
import { definitionSchemaFor, type CampaignStep, type DefinitionOf, type Stage } from '../shared/campaign-definition';
import { startedAtRevision, type Channel, type JourneyInput, type JourneyOutcome, type JourneyResult, type JourneyState } from '../shared/journey-types';
import {
  customerEventSignal,
  journeyStateQuery,
  submitSurveyUpdate,
  messageSchemas,
  surveyAnswerSignal,
  type CustomerEvent,
  type SurveyAnswer,
} from '../shared/messages';
import { nextSendableTime } from '../shared/quiet-hours';
import { CampaignStepKey, OutcomeKey } from '../shared/search-attributes';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' } as const;

export const activities = proxyActivities<JourneyActivities>({ startToCloseTimeout: '1 minute', retry });

/**
 * Short store work a journey cannot go on without, run inside the workflow task that needs it: no activity task to
 * schedule, dispatch and report, and no second workflow task to pick up its result.
 */
const local = proxyLocalActivities<Pick<JourneyActivities, 'enterJourney'>>({ startToCloseTimeout: '30 seconds', retry });

/**
 * The send activity: it heartbeats while its transport call runs (a dead worker is noticed within the heartbeat
 * timeout), and its send lease, not this timeout, is what keeps two attempts from sending (src/activities/send-message.ts).
 */
const sending = proxyActivities<Pick<JourneyActivities, 'sendMessage'>>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '30 seconds', retry });

/** How many applied event ids a journey remembers to refuse redeliveries. */
const SEEN_EVENT_IDS = 200;

/** How often a frequency-capped message may be deferred before the step is given up. */
const MAX_DEFERRALS = 5;

export type SendableStep = Pick<CampaignStep, 'id' | 'template' | 'channel' | 'fallback' | 'variantTemplates' | 'maxSmsSegments'>;

/**
 * One customer's conversation in one stage: the state every stage shares (assignment, consent, counters,
 * customer events) and the steps they are built from (send, wait, record, finish). Workflow-side only.
 */
export class Journey<S extends Stage> {
  readonly workflowId = workflowInfo().workflowId;
  /**
   * This run of the stage: the first execution's run id stays the same across continue-as-new and is new when the
   * customer enters the stage again, so every run is a conversation of its own (ledger, offer code, survey link).
   */
  readonly runId = workflowInfo().firstExecutionRunId;
  readonly state: JourneyState;
  readonly purchases: { amount: number; at: number; orderId?: string; eventId?: string }[] = [];
  readonly surveyAnswers: SurveyAnswer[] = [];
  activated = false;
  /** Customer events applied so far (any type): a loop that waits on them wakes for each. */
  eventsApplied = 0;
  /** Ids of the events applied, oldest first (bounded): a redelivered event is applied once. */
  readonly seenEventIds: string[];
  lastActivityAt: number;
  /** Unsubscribed with onUnsubscribe "end": the stage should wrap up. */
  stopRequested = false;
  awaitingSurvey?: SurveyAnswer['survey'];
  /** The stage's own rule for the awaited answer (a win-back's closed list of reasons): a message, or undefined to accept. */
  private surveyProblem?: (answer: SurveyAnswer) => string | undefined;

  private constructor(
    readonly definition: DefinitionOf<S>,
    readonly customer: CustomerSnapshot,
    readonly input: JourneyInput,
  ) {
    const { holdout, variant } = Journey.assignment(definition, input);
    this.lastActivityAt = input.carried?.lastActivityAt ?? customer.lastActivityAt ?? Date.now();
    this.seenEventIds = [...(input.carried?.seenEventIds ?? [])];
    if (input.carried?.preferredChannel) customer.preferredChannel = input.carried.preferredChannel;
    const noConsent = !customer.consent.email && !customer.consent.sms;
    this.state = {
      stage: definition.stage as S,
      runId: this.runId,
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
    const given = (input.definition as { stage?: unknown } | undefined)?.stage;
    const parsed = given === stage ? definitionSchemaFor(stage).safeParse(input.definition) : undefined;
    if (!parsed?.success) {
      const problems = parsed
        ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
        : [`stage: expected "${stage}", got ${JSON.stringify(given)}`];
      throw ApplicationFailure.nonRetryable(`invalid campaign definition: ${problems.join('; ')}`, 'InvalidCampaignDefinition');
    }
    const definition = parsed.data as DefinitionOf<S>;
    // Journeys started before revision 11 replay the two activities they ran.
    const enteredAtOnce = startedAtRevision(input, 11);
    const customer = enteredAtOnce
      ? await Journey.enter({ customerId: input.customerId, entered: input.carried ? undefined : Journey.entryFact(definition, input) })
      : await activities.loadCustomer(input.customerId);
    if (!customer) {
      throw ApplicationFailure.nonRetryable(`unknown customer ${input.customerId}`, 'UnknownCustomer');
    }
    const journey = new Journey(definition, customer, input);
    journey.registerHandlers();
    // Starts give these from the start options now (src/triggers/journeys.ts): one visibility write less per journey.
    if (!enteredAtOnce) {
      upsertSearchAttributes([
        { key: OutcomeKey, value: 'in-progress' },
        { key: CampaignStepKey, value: 'start' },
      ]);
    }
    journey.updateMemo();
    if (!input.carried && !enteredAtOnce) {
      await journey.record('entered', { data: { campaignVersion: definition.version }, factKey: `${journey.runKey}/entered` });
    }
    return journey;
  }

  /**
   * Loads the customer and records the entry inside the first workflow task. A local activity lives only as long as the
   * worker keeps that task: when the worker gives it up (seen with the store restarting under a launch: the attempt came
   * back cancelled), the entry goes the long way, as an activity the server retries until the store answers.
   */
  private static async enter(request: JourneyEntryInput): Promise<CustomerSnapshot | undefined> {
    try {
      return await local.enterJourney(request);
    } catch (err) {
      // Whatever ended the local attempt (a failure, or a cancellation that was not the journey's own), try again as an
      // activity: the server keeps retrying that one.
      if (CancellationScope.current().consideredCancelled) throw err;
      return activities.enterJourney(request);
    }
  }

  /** The customer's holdout and variant draw, with the hash of the revision the journey started at. */
  private static assignment(definition: DefinitionOf<Stage>, input: JourneyInput): Assignment {
    const hash = startedAtRevision(input, 12) ? 'mixed' : 'fnv1a';
    return assign(input.customerId, definition.id, definition.holdoutPercent, definition.variants, hash);
  }

  /** The `entered` fact of this run, as `record('entered')` on the journey would write it. */
  private static entryFact<S extends Stage>(definition: DefinitionOf<S>, input: JourneyInput): OutcomeInput {
    const { workflowId, firstExecutionRunId } = workflowInfo();
    const { holdout, variant } = Journey.assignment(definition, input);
    return {
      customerId: input.customerId,
      stage: definition.stage,
      campaignId: definition.id,
      workflowId,
      variant,
      holdout,
      step: 'start',
      status: 'entered',
      occurredAt: Date.now(),
      data: { campaignVersion: definition.version },
      factKey: `${workflowId}/${firstExecutionRunId}/entered`,
    };
  }

  private registerHandlers(): void {
    setHandler(journeyStateQuery, () => this.state);
    setHandler(customerEventSignal, (event) => this.onCustomerEvent(event));
    setHandler(surveyAnswerSignal, (answer) => this.onSurveyAnswer(answer));
    setHandler(
      submitSurveyUpdate,
      (answer, _target) => {
        this.onSurveyAnswer(answer);
        return { accepted: true };
      },
      {
        validator: (answer, target) => {
          messageSchemas().surveyAnswer.parse(answer);
          if (target?.runId !== undefined && target.runId !== this.runId) {
            throw new Error('this survey link belongs to an earlier run of the journey');
          }
          if (this.awaitingSurvey !== answer.survey) {
            throw new Error(`this journey is not waiting for a ${answer.survey} answer`);
          }
          const problem = this.surveyProblem?.(answer);
          if (problem !== undefined) throw new Error(problem);
        },
      },
    );
  }

  /**
   * True the first time an event id is seen (and remembers it); events without an id are always new. Keeps the
   * last SEEN_EVENT_IDS ids: redeliveries come within minutes, not after hundreds of other events.
   */
  firstDelivery(eventId: string | undefined): boolean {
    if (eventId === undefined) return true;
    if (this.seenEventIds.includes(eventId)) return false;
    this.seenEventIds.push(eventId);
    if (this.seenEventIds.length > SEEN_EVENT_IDS) this.seenEventIds.splice(0, this.seenEventIds.length - SEEN_EVENT_IDS);
    return true;
  }

  private onCustomerEvent(event: CustomerEvent): void {
    if (!this.firstDelivery(event.eventId)) return;
    this.eventsApplied++;
    const now = Date.now();
    switch (event.type) {
      case 'purchase':
        this.purchases.push({ amount: event.amount, at: now, orderId: event.orderId, eventId: event.eventId });
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

  /**
   * Records a fact about this run. Every fact has a key, so a retried write is one row: `factKey` names a natural
   * one (an order id, "the entry of this run"); by default each call of this run is its own fact. True when this
   * call stored it, false when it was stored before.
   */
  async record(status: string, extra: Partial<Pick<OutcomeInput, 'reason' | 'value' | 'data' | 'channel' | 'step' | 'factKey'>> = {}): Promise<boolean> {
    const factKey = extra.factKey ?? `${this.runKey}/${status}/${uuid4()}`;
    return activities.recordOutcome({ ...this.outcomeFields, step: this.state.currentStep, ...extra, status, occurredAt: Date.now(), factKey });
  }

  /** Names this run in keys: workflow id and first execution run id. */
  get runKey(): string {
    return `${this.workflowId}/${this.runId}`;
  }

  setStep(step: string): void {
    this.state.currentStep = step;
    upsertSearchAttributes([{ key: CampaignStepKey, value: step }]);
    if (!this.leanMemo) this.updateMemo();
  }

  /**
   * The memo is written when the journey begins and when it ends, not at every step and message: each write is a
   * visibility update on the server, and the step is a search attribute already. Journeys started before revision 11
   * rewrite it as they did.
   */
  private get leanMemo(): boolean {
    return startedAtRevision(this.input, 11);
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
   * customer's quiet hours; a deferred message (quiet hours, frequency cap) waits for the time the activity names.
   * The message has a deadline (the campaign's `sendWithin` from now, and an offer's expiry): past it, it is given
   * up. The activity checks consent, quiet hours and the deadline before every attempt, and writes the ledger and
   * the outcome row.
   */
  async send(step: SendableStep, extras: MessageExtras = {}, stepKey: string = step.id): Promise<SendMessageResult> {
    this.setStep(step.id);
    const template = step.variantTemplates?.[this.state.variant] ?? step.template;
    if (this.state.holdout || this.state.muted) {
      const reason = this.state.holdout ? 'holdout' : 'unsubscribed';
      this.state.messagesSkipped++;
      await this.record('skipped', { reason, step: step.id, data: { template }, factKey: `send/${this.runKey}/${stepKey}/skipped` });
      return { status: 'skipped', reason };
    }
    const notAfter = this.deadline(extras);
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
    let result: SendMessageResult;
    // Bounded by the deadline: the activity ends a message that is still deferred past it as expired.
    for (let deferrals = 0, capped = 0; ; deferrals++) {
      result = await sending.sendMessage({
        ...this.outcomeFields,
        runId: this.runId,
        stepId: stepKey,
        step: step.id,
        channel,
        fallback: step.fallback,
        templateId: template,
        extras,
        whenCapped: capped < MAX_DEFERRALS ? this.definition.whenCapped : 'skip',
        maxSmsSegments: step.maxSmsSegments,
        quietHours: this.definition.quietHours,
        notAfter,
        deferrals,
      });
      if (result.status !== 'deferred') break;
      if (result.reason === 'frequency-cap') capped++;
      await this.waitUntil(result.retryAt, () => this.stopRequested);
      if (this.stopRequested) break;
    }
    if (result.status === 'sent') this.state.messagesSent++;
    else this.state.messagesSkipped++;
    if (!this.leanMemo) this.updateMemo();
    return result;
  }

  /** The latest time a message due now may go out: `sendWithin` from now, and no later than its offer's expiry. */
  private deadline(extras: MessageExtras): number {
    const within = Date.now() + this.definition.sendWithin;
    const offerEnds = extras.offer ? Date.parse(extras.offer.expiresAt) : Infinity;
    return Math.min(within, offerEnds);
  }

  /**
   * Offer fields for a template, fixed per run so a retried send shows the same code and a customer who enters the
   * stage again gets a code of their own. (Runs that began before codes were keyed by run keep their code.)
   */
  offer(discountPercent: number, validForMs: number, issuedAt: number): NonNullable<MessageExtras['offer']> {
    const seed = patched('offer-code-per-run') ? this.runKey : this.workflowId;
    const code = `${this.state.stage.slice(0, 2).toUpperCase()}-${fnv1a(seed).toString(36).toUpperCase()}`;
    return { code, discountPercent, expiresAt: new Date(issuedAt + validForMs).toISOString() };
  }

  /**
   * Sends the survey message and waits for its answer, at most `ms`. Answers are taken from the moment the message
   * is on its way: a customer may answer before the send activity has even reported back. `problem` refuses an
   * answer the stage cannot take (in the update's validator: a refused answer leaves no trace in the history).
   */
  async askSurvey<K extends SurveyAnswer['survey']>(
    survey: K,
    step: SendableStep,
    extras: MessageExtras,
    ms: number,
    problem?: (answer: Extract<SurveyAnswer, { survey: K }>) => string | undefined,
  ): Promise<Extract<SurveyAnswer, { survey: K }> | undefined> {
    const isAwaited = (a: SurveyAnswer): a is Extract<SurveyAnswer, { survey: K }> => a.survey === survey;
    this.awaitingSurvey = survey;
    this.surveyProblem = problem && ((answer) => (isAwaited(answer) ? problem(answer) : undefined));
    const find = () => this.surveyAnswers.find(isAwaited);
    await this.send(step, { ...extras, survey });
    await this.waitFor(ms, () => find() !== undefined);
    this.awaitingSurvey = undefined;
    this.surveyProblem = undefined;
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
    if (options.record) await this.record(outcome.replace('-', '_'), { factKey: `${this.runKey}/outcome`, ...extra });
    return { outcome, messagesSent: this.state.messagesSent, details: this.state.details };
  }

  /** Cancelled by request: the Outcome attribute and (from revision 12) the memo say so. */
  markCancelled(): void {
    this.state.outcome = 'cancelled';
    upsertSearchAttributes([{ key: OutcomeKey, value: 'cancelled' }]);
    if (startedAtRevision(this.input, 12)) this.updateMemo();
  }

  /** The one-line summary ops see in the Web UI's list (the state query has the step and the counters). */
  private updateMemo(): void {
    const s = this.state;
    upsertMemo({
      summary: `${s.stage} for ${this.customer.name} (${s.customerId}): ${s.outcome}${s.holdout ? ', holdout' : ''}${s.muted ? ', muted' : ''}, variant ${s.variant}`,
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
        journey.markCancelled();
        await journey.record('cancelled', { reason: 'cancelled by request', factKey: `${journey.runKey}/outcome` });
      });
    }
    throw err;
  }
}
