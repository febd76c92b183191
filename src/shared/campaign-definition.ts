import { z } from 'zod';
import { DAYS_365_MS } from './anniversary';
import { DurationSchema } from './duration';

export const STAGES = ['onboarding', 'nurture', 'complaint', 'winback'] as const;
export type Stage = (typeof STAGES)[number];

/** What a churn reason's key looks like: it is stored as the outcome's reason and counted in reports. */
export const CHURN_REASON_KEY = /^[a-z0-9][a-z0-9-]{0,59}$/;

/** The reasons a win-back campaign offers when it declares none. `other` lets the customer add a comment. */
export const DEFAULT_CHURN_REASONS = [
  { key: 'too-expensive', label: 'It got too expensive' },
  { key: 'found-alternative', label: 'I found a better alternative' },
  { key: 'no-longer-needed', label: "I don't need it any more" },
  { key: 'quality', label: 'Product quality' },
  { key: 'service', label: 'Customer service' },
  { key: 'other', label: 'Something else' },
];

/*
 * The schemas are built on first use, not when the module loads: a worker evaluates the workflow modules once per
 * journey it holds in its cache, so schemas built at load cost every cached journey memory and every start CPU
 * (issue 11). A journey builds the common parts and the schema of its own stage, nothing else.
 */
function buildCommon() {
  const TemplateId = z.string().regex(/^[a-z][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/, 'expected a template id such as "onboarding/welcome"');
  const ChannelChoice = z.enum(['email', 'sms', 'preferred']);
  const Hour = z.number().int().min(0).max(23);

  /** One message of a sequence: waits `after` (from the previous step), then sends `template`. */
  const StepSchema = z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase step id such as "tip-1"'),
    after: DurationSchema.prefault('0s'),
    channel: ChannelChoice.default('preferred'),
    template: TemplateId,
    /** Template per A/B variant; variants not named here use `template`. */
    variantTemplates: z.record(z.string(), TemplateId).optional(),
    /** When the chosen channel is opted out or unreachable, try the other one. */
    fallback: z.boolean().default(true),
    /**
     * An SMS body longer than this many segments is not sent: with `fallback` the message goes by email instead (when
     * email can reach the customer), without it the step is skipped as `sms-too-long:<n>-segments`.
     */
    maxSmsSegments: z.number().int().min(1).max(10).optional(),
    /** Put the stage's offer (code, discount, expiry) into this message's template context. */
    includeOffer: z.boolean().default(false),
  });

  const CommonFields = {
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase campaign id such as "welcome-2026"'),
    version: z.number().int().min(1),
    description: z.string().optional(),
    variants: z
      .array(z.object({ name: z.string().min(1), weight: z.number().positive() }))
      .min(1)
      .default([{ name: 'control', weight: 1 }]),
    holdoutPercent: z.number().min(0).max(100).default(0),
    /** Temporal ID reuse after a journey closed: `never` forbids a second run, `after-failure` allows it only after a failure. */
    reentry: z.enum(['never', 'always', 'after-failure']).default('always'),
    /** `end` closes the journey on unsubscribe; `mute` keeps tracking exit events without sending. */
    onUnsubscribe: z.enum(['end', 'mute']).default('end'),
    quietHours: z.object({ start: Hour, end: Hour }).optional(),
    /** What a message over the frequency cap does: wait for a free slot, or give up the step. */
    whenCapped: z.enum(['defer', 'skip']).default('defer'),
    /**
     * A message not sent within this long after its step came due is given up (skipped as `expired`): after an
     * outage or a long deferral it is no longer the right message. Offer messages also end when the offer does.
     */
    sendWithin: DurationSchema.prefault('3 days'),
  };

  return { TemplateId, ChannelChoice, Hour, StepSchema, CommonFields };
}

type Common = ReturnType<typeof buildCommon>;

function buildOnboarding(c: Common) {
  const { StepSchema, CommonFields } = c;
  return z.object({
    ...CommonFields,
    stage: z.literal('onboarding'),
    exitEvent: z.literal('activation').default('activation'),
    steps: z.array(StepSchema).min(1),
    /** After the last tip, wait this long for activation before handing over to nurture. */
    finalWait: DurationSchema.prefault('0s'),
  });
}

function buildNurture(c: Common) {
  const { TemplateId, ChannelChoice, Hour, CommonFields } = c;
  return z.object({
    ...CommonFields,
    stage: z.literal('nurture'),
    exitEvent: z.literal('purchase').default('purchase'),
    touch: z.object({ every: DurationSchema, template: TemplateId, channel: ChannelChoice.default('preferred') }),
    loyalty: z.object({
      pointsPerCurrencyUnit: z.number().positive(),
      /** Tiers in ascending order of minPoints; the first must start at 0. */
      tiers: z
        .array(z.object({ name: z.string().min(1), minPoints: z.number().int().min(0) }))
        .min(1)
        .refine((t) => t[0]?.minPoints === 0, 'the first tier must have minPoints 0')
        .refine((t) => t.every((tier, i) => i === 0 || tier.minPoints > (t[i - 1] as { minPoints: number }).minPoints), 'tiers must ascend by minPoints'),
      tierUpTemplate: TemplateId,
    }),
    anniversary: z.object({
      /**
       * Unset (the default): yearly by the calendar, on the signup's month and day in the customer's time zone
       * (29 February -> 28 February in non-leap years) at `hour` local time. A duration: every that long from signup,
       * ignoring calendar and time zone (short cycles for tests and demos). "365 days", the former default, reads as
       * yearly: it never meant to drift a day each leap year.
       */
      every: DurationSchema.optional().transform((ms) => (ms === DAYS_365_MS ? undefined : ms)),
      /** Local hour (0-23) of a yearly anniversary. */
      hour: Hour.default(10),
      template: TemplateId,
    }),
    inactivity: z.object({ threshold: DurationSchema }),
    /** Continue-as-new once history has this many events (Temporal also suggests it on its own limits). */
    maxHistoryEvents: z.number().int().min(50).default(2000),
  });
}

function buildComplaint(c: Common) {
  const { TemplateId, CommonFields } = c;
  return z.object({
    ...CommonFields,
    stage: z.literal('complaint'),
    exitEvent: z.literal('resolved').default('resolved'),
    sla: z.object({ firstResponse: DurationSchema, resolution: DurationSchema }),
    /** The shorter SLA for core customers (the tiers listed in coreTiers). */
    coreSla: z.object({ firstResponse: DurationSchema, resolution: DurationSchema }),
    coreTiers: z.array(z.string()).default([]),
    templates: z.object({
      acknowledge: TemplateId,
      update: TemplateId,
      escalated: TemplateId,
      resolved: TemplateId,
      survey: TemplateId,
      recovery: TemplateId,
    }),
    csat: z.object({ timeout: DurationSchema, lowRatingAtMost: z.number().int().min(1).max(5).default(2) }),
    recoveryOffer: z.object({ discountPercent: z.number().min(1).max(100), validFor: DurationSchema }),
  });
}

function buildWinback(c: Common) {
  const { TemplateId, StepSchema, CommonFields } = c;
  return z.object({
    ...CommonFields,
    stage: z.literal('winback'),
    exitEvent: z.literal('purchase').default('purchase'),
    inactiveDays: z.number().int().min(1),
    steps: z.array(StepSchema).min(1),
    offer: z.object({ discountPercent: z.number().min(1).max(100), validFor: DurationSchema }),
    /** After the last step, how long a purchase still counts as won back. */
    finalWait: DurationSchema,
    churnSurvey: z.object({
      template: TemplateId,
      timeout: DurationSchema,
      /** The closed list the survey offers; an answer outside it is refused, so reports count only these keys. */
      reasons: z
        .array(z.object({ key: z.string().regex(CHURN_REASON_KEY, 'expected a lowercase key such as "too-expensive"'), label: z.string().min(1).max(100) }))
        .min(1)
        .max(20)
        .refine((reasons) => new Set(reasons.map((r) => r.key)).size === reasons.length, 'reason keys must be unique')
        .default(() => DEFAULT_CHURN_REASONS.map((r) => ({ ...r }))),
    }),
  });
}

const builders = { onboarding: buildOnboarding, nurture: buildNurture, complaint: buildComplaint, winback: buildWinback };
type Schemas = { [S in Stage]: ReturnType<(typeof builders)[S]> };

let common: Common | undefined;
const built: Partial<Schemas> = {};
let union: ReturnType<typeof buildUnion> | undefined;

/** One stage's definition schema (what a journey validates its definition with), built on first call. */
export function definitionSchemaFor<S extends Stage>(stage: S): Schemas[S] {
  common ??= buildCommon();
  built[stage] ??= builders[stage](common) as Schemas[S];
  return built[stage] as Schemas[S];
}

function buildUnion() {
  return z.discriminatedUnion('stage', [
    definitionSchemaFor('onboarding'),
    definitionSchemaFor('nurture'),
    definitionSchemaFor('complaint'),
    definitionSchemaFor('winback'),
  ]);
}

/** The union of the four stages' definitions (the catalog validates campaign files with it). */
export function campaignDefinitionSchema(): ReturnType<typeof buildUnion> {
  union ??= buildUnion();
  return union;
}

export type CampaignStep = z.infer<Common['StepSchema']>;

/** Definitions as a workflow receives them: durations already in milliseconds. */
export type CampaignDefinition = z.infer<ReturnType<typeof buildUnion>>;
/** Definitions as written in campaigns/*.json. */
export type CampaignDefinitionInput = z.input<ReturnType<typeof buildUnion>>;
export type OnboardingDefinition = z.infer<Schemas['onboarding']>;
export type NurtureDefinition = z.infer<Schemas['nurture']>;
export type ComplaintDefinition = z.infer<Schemas['complaint']>;
export type WinbackDefinition = z.infer<Schemas['winback']>;
export type DefinitionOf<S extends Stage> = Extract<CampaignDefinition, { stage: S }>;
