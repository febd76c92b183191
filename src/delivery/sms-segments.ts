/**
 * SMS segment counting as carriers do it: GSM-7 when every character is in the GSM 03.38 basic or extension
 * table (extension characters take an escape, so count 2 septets), otherwise UCS-2 (UTF-16 code units).
 * A single message holds 160 septets / 70 units; a concatenated one 153 / 67 per segment (the rest is the UDH).
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text needs. */
  units: number;
  segments: number;
  /** Capacity of each segment for this message: 160/70 when it fits in one, else 153/67. */
  perSegment: number;
}

export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

export const LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/** GSM-7 when every character has a GSM 03.38 encoding, else UCS-2. */
export function smsEncoding(text: string): SmsEncoding {
  for (const ch of text) {
    if (!basic.has(ch) && !extension.has(ch)) return 'UCS-2';
  }
  return 'GSM-7';
}

/** Cost of each character in units; escape pairs and surrogate pairs are kept whole. */
function weights(text: string, encoding: SmsEncoding): number[] {
  const out: number[] = [];
  for (const ch of text) {
    out.push(encoding === 'GSM-7' ? (extension.has(ch) ? 2 : 1) : ch.length);
  }
  return out;
}

export function countSmsSegments(text: string): SmsSegmentInfo {
  const encoding = smsEncoding(text);
  const w = weights(text, encoding);
  const units = w.reduce((a, b) => a + b, 0);
  const { single, multi } = LIMITS[encoding];
  if (units === 0) return { encoding, units, segments: 0, perSegment: single };
  if (units <= single) return { encoding, units, segments: 1, perSegment: single };
  // Greedy packing: an escape sequence or a surrogate pair never straddles two segments.
  let segments = 1;
  let used = 0;
  for (const cost of w) {
    if (used + cost > multi) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments, perSegment: multi };
}
