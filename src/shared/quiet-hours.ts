/** Hour and minute of `at` on the wall clock of `timeZone` (Intl is deterministic for a given instant). */
function localTime(at: number, timeZone: string): { hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { hour: get('hour'), minute: get('minute') };
}

export interface QuietHours {
  /** Hour (0-23, local) when quiet time begins, e.g. 21. */
  start: number;
  /** Hour (0-23, local) when sending may resume, e.g. 8. */
  end: number;
}

function isQuiet(hour: number, q: QuietHours): boolean {
  return q.start > q.end ? hour >= q.start || hour < q.end : hour >= q.start && hour < q.end;
}

/**
 * The earliest instant at or after `at` outside quiet hours in the customer's time zone.
 * Steps a minute-aligned clock forward hour by hour so daylight-saving shifts are handled by Intl.
 */
export function nextSendableTime(at: number, timeZone: string, quiet: QuietHours | undefined): number {
  if (!quiet || quiet.start === quiet.end) return at;
  let t = at;
  for (let i = 0; i < 48; i++) {
    const { hour, minute } = localTime(t, timeZone);
    if (!isQuiet(hour, quiet)) return t;
    t = t - minute * 60_000 - (t % 60_000) + 3_600_000;
  }
  return t;
}
