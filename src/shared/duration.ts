import { z } from 'zod';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const HUMAN = /^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i;
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

function unitKey(unit: string): string {
  const u = unit.toLowerCase();
  if (u === 'ms' || u.startsWith('milli')) return 'ms';
  return u[0] as string;
}

/** Parses "3 days", "90m", "PT4H", "P1DT12H" into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  const human = HUMAN.exec(trimmed);
  if (human) return Math.round(Number(human[1]) * (UNIT_MS[unitKey(human[2] as string)] as number));
  const iso = ISO.exec(trimmed);
  if (iso && trimmed.length > 1 && trimmed.toUpperCase() !== 'PT') {
    const [, w, d, h, m, s] = iso.map((part) => Number(part ?? 0));
    return (w as number) * UNIT_MS.w! + (d as number) * UNIT_MS.d! + (h as number) * UNIT_MS.h! + (m as number) * UNIT_MS.m! + Math.round((s as number) * 1000);
  }
  return undefined;
}

/** A duration field of a campaign definition: text in, milliseconds out. */
export const DurationSchema = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "3 days", "90 minutes" or "PT4H" (got "${text}")` });
      return z.NEVER;
    }
    return ms;
  });
