/**
 * Quiet hours as the chaos suite reads a campaign, written here again (not imported from src/) so that the
 * check does not share a bug with the code it checks.
 */
export interface QuietWindow {
  /** Local hour when quiet time begins. */
  start: number;
  /** Local hour when sending may resume. */
  end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock hour (0-23) of `at` in `zone`. */
export function localHour(at: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  return Number(f.formatToParts(at).find((p) => p.type === 'hour')?.value ?? NaN) % 24;
}

export function isQuietAt(at: number, zone: string, quiet: QuietWindow): boolean {
  const hour = localHour(at, zone);
  if (quiet.start === quiet.end) return false;
  return quiet.start < quiet.end ? hour >= quiet.start && hour < quiet.end : hour >= quiet.start || hour < quiet.end;
}

/** The first minute at or after `at` outside quiet hours in `zone` (searched minute by minute, at most two days). */
export function quietEndsAt(at: number, zone: string, quiet: QuietWindow): number {
  let t = Math.ceil(at / 60_000) * 60_000;
  for (let i = 0; i < 2 * 24 * 60 && isQuietAt(t, zone, quiet); i++) t += 60_000;
  return t;
}

/** Zones spread over the world's offsets, including half- and three-quarter-hour ones. */
export const CANDIDATE_ZONES = [
  'Pacific/Kiritimati', 'Pacific/Tongatapu', 'Pacific/Auckland', 'Pacific/Noumea', 'Australia/Sydney', 'Australia/Adelaide',
  'Asia/Tokyo', 'Asia/Shanghai', 'Asia/Bangkok', 'Asia/Yangon', 'Asia/Dhaka', 'Asia/Kathmandu', 'Asia/Kolkata',
  'Asia/Karachi', 'Asia/Kabul', 'Asia/Dubai', 'Asia/Tehran', 'Europe/Moscow', 'Europe/Athens', 'Europe/Paris',
  'Europe/London', 'UTC', 'Atlantic/Azores', 'America/Noronha', 'America/Sao_Paulo', 'America/St_Johns',
  'America/Halifax', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles',
  'America/Anchorage', 'Pacific/Marquesas', 'Pacific/Honolulu', 'Pacific/Pago_Pago', 'Etc/GMT+12',
];

export interface ZoneSplit {
  /** Quiet for the whole horizon: an SMS step must wait. */
  quiet: string[];
  /** Outside quiet hours for the whole horizon: an SMS step goes at once. */
  open: string[];
}

/** Sorts the candidate zones by whether every minute of [from, from + horizonMs] is quiet, or none is. */
export function splitZones(from: number, horizonMs: number, quiet: QuietWindow): ZoneSplit {
  const split: ZoneSplit = { quiet: [], open: [] };
  for (const zone of CANDIDATE_ZONES) {
    const states = new Set<boolean>();
    for (let t = from; t <= from + horizonMs + 60_000; t += 60_000) states.add(isQuietAt(t, zone, quiet));
    if (states.size !== 1) continue;
    (states.has(true) ? split.quiet : split.open).push(zone);
  }
  return split;
}
