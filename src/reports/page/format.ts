import type { Rate } from '../types';

/** How the page writes figures; the same functions format the text and are shared with nothing else. */

export const NO_DATA = 'no data';

/** 0.125 -> "12.5%"; null -> "no data". */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? NO_DATA : `${(value * 100).toFixed(1)}%`;
}

/** A rate with its counts: "12.5% (1 of 8)". */
export function rateText(r: Rate): string {
  return r.rate === null ? `${NO_DATA} (0 of 0)` : `${percent(r.rate)} (${r.numerator} of ${r.denominator})`;
}

/** Percentage points with a sign: 0.0425 -> "+4.3 pp". */
export function points(value: number | null): string {
  if (value === null) return NO_DATA;
  const pp = value * 100;
  return `${pp >= 0 ? '+' : '−'}${Math.abs(pp).toFixed(1)} pp`;
}

const MONEY = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function money(value: number | null): string {
  return value === null ? NO_DATA : MONEY.format(value);
}

export function decimal(value: number | null): string {
  return value === null ? NO_DATA : DECIMAL.format(value);
}

/** NPS points: 20 -> "+20", -12.5 -> "−12.5". */
export function npsText(score: number | null): string {
  if (score === null) return NO_DATA;
  const rounded = Math.round(score * 10) / 10;
  return `${rounded > 0 ? '+' : rounded < 0 ? '−' : ''}${DECIMAL.format(Math.abs(rounded))}`;
}

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds as the two largest units: 5_400_000 -> "1h 30m", 93_600_000 -> "1d 2h", 7_200_000 -> "2h". */
export function duration(ms: number | null): string {
  if (ms === null) return NO_DATA;
  const total = Math.round(ms);
  const index = UNITS.findIndex(([, size]) => total >= size);
  const largest = UNITS[index];
  if (!largest) return '0s';
  const count = Math.floor(total / largest[1]);
  const next = UNITS[index + 1];
  const rest = next ? Math.floor((total - count * largest[1]) / next[1]) : 0;
  return next && rest > 0 ? `${count}${largest[0]} ${rest}${next[0]}` : `${count}${largest[0]}`;
}

/** An ISO timestamp's UTC calendar day. */
export function day(iso: string): string {
  return iso.slice(0, 10);
}
