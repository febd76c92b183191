import { z } from 'zod';

/** The lifecycle stages that have a template folder (`templates/<stage>/`). */
export const TEMPLATE_STAGES = ['onboarding', 'nurture', 'complaint', 'winback'] as const;
export type TemplateStage = (typeof TEMPLATE_STAGES)[number];

/**
 * Everything a message template may reference. `checkTemplates` rejects any variable path this schema does
 * not describe, and `renderMessage` validates the context against it before rendering.
 */
export const TemplateContextSchema = z.object({
  customer: z.object({
    id: z.string().min(1),
    name: z.string().min(1),
    tier: z.string().min(1),
    points: z.number().int().nonnegative(),
    email: z.email().optional(),
    phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number').optional(),
  }),
  campaign: z.object({
    id: z.string().min(1),
    stage: z.enum(TEMPLATE_STAGES),
    step: z.string().min(1),
    variant: z.string().min(1).optional(),
  }),
  offer: z
    .object({
      code: z.string().min(1),
      /** ISO 8601 date or date-time; templates format it with the `date` filter. */
      expiresAt: z.string().min(1),
      /** Human text such as "20%" or "$10". */
      discount: z.string().min(1),
    })
    .optional(),
  surveyLink: z.url().optional(),
  unsubscribeLink: z.url(),
  ticket: z
    .object({
      id: z.string().min(1),
      subject: z.string().optional(),
      status: z.string().optional(),
      note: z.string().optional(),
    })
    .optional(),
  brand: z.object({ name: z.string().min(1) }),
});

export type TemplateContext = z.infer<typeof TemplateContextSchema>;

/** Properties Liquid itself provides on strings and arrays (`{{ name.size }}`, `{{ list.first }}`). */
const BUILT_IN_PROPERTIES = new Set(['size', 'first', 'last']);

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  // optional / nullable / default wrappers all expose their inner type as `def.innerType`
  for (;;) {
    const def = (current as unknown as { def?: { innerType?: z.ZodType } }).def;
    if (
      (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) &&
      def?.innerType
    ) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

/**
 * Whether a variable path (`['customer', 'name']`) names something the context schema knows.
 * Dynamic segments (numbers, nested variables) end the check: they can only be judged at render time.
 */
export function isKnownContextPath(segments: ReadonlyArray<unknown>, schema: z.ZodType = TemplateContextSchema): boolean {
  let current: z.ZodType = unwrap(schema);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (typeof segment !== 'string') return true;
    if (current instanceof z.ZodObject) {
      const next = (current.shape as Record<string, z.ZodType>)[segment];
      if (!next) return false;
      current = unwrap(next);
      continue;
    }
    if (current instanceof z.ZodString || current instanceof z.ZodArray) {
      return BUILT_IN_PROPERTIES.has(segment) && i === segments.length - 1;
    }
    return false;
  }
  return true;
}

/** Plausible data for previews and for the check's trial render. */
export function sampleTemplateContext(stage: TemplateStage = 'onboarding', step = 'welcome'): TemplateContext {
  return {
    customer: { id: 'cus_1001', name: 'Ada Lovelace', tier: 'gold', points: 1250, email: 'ada@example.com', phone: '+15005550006' },
    campaign: { id: `cmp_${stage}_2025`, stage, step, variant: 'a' },
    offer: { code: 'COMEBACK20', expiresAt: '2031-06-30', discount: '20%' },
    surveyLink: 'https://retention.example.com/survey/s_42',
    unsubscribeLink: 'https://retention.example.com/unsubscribe?c=cus_1001&ch=email&t=sample',
    ticket: { id: 'T-4711', subject: 'Late delivery & damaged box', status: 'in progress', note: 'The courier confirmed a replacement is on its way.' },
    brand: { name: 'Acme Coffee' },
  };
}
