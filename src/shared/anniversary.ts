/** How a campaign schedules anniversaries (the parsed `anniversary` of a nurture definition). */
export interface AnniversaryRule {
  /** A fixed interval in ms from signup; undefined means yearly by the calendar. */
  every?: number;
  /** Hour of day (0-23) in the customer's time zone at which a yearly anniversary falls. */
  hour: number;
}

/** The legacy yearly interval: campaigns that wrote "365 days" meant yearly (see NurtureDefinitionSchema). */
export const DAYS_365_MS = 365 * 86_400_000;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock of `timeZone` at `at` (Intl only: deterministic for a given instant, so usable in workflow code). */
function wallClock(at: number, timeZone: string): WallClock {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** How far the zone's wall clock is ahead of UTC at `at`, in ms. */
function offsetAt(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1000) * 1000;
}

/** The instant at which `timeZone` shows year-month-day hour:00 (an hour skipped by daylight saving comes out an hour later). */
function zonedInstant(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour);
  const guess = asUtc - offsetAt(asUtc, timeZone);
  // The offset at the guess is the one in force at the answer, unless a DST change lies between them.
  return asUtc - offsetAt(guess, timeZone);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The first anniversary of a signup strictly after `after`.
 * Yearly (rule.every unset): the signup's month and day in the customer's time zone, in each later year, at
 * rule.hour local time; a 29 February signup has its anniversary on 28 February in non-leap years.
 * Interval (rule.every set): signup + n * every, n >= 1, ignoring calendar and time zone.
 */
export function nextAnniversary(rule: AnniversaryRule, signupAt: number, after: number, timeZone: string): number {
  if (rule.every !== undefined) {
    const n = Math.max(1, Math.floor((after - signupAt) / rule.every) + 1);
    return signupAt + n * rule.every;
  }
  const signup = wallClock(signupAt, timeZone);
  for (let year = Math.max(signup.year + 1, wallClock(after, timeZone).year); ; year++) {
    const day = signup.month === 2 && signup.day === 29 && !isLeapYear(year) ? 28 : signup.day;
    const at = zonedInstant(year, signup.month, day, rule.hour, timeZone);
    if (at > after) return at;
  }
}
