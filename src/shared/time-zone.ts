/** True for an IANA zone (or UTC offset name) the runtime knows; Intl throws a RangeError for anything else. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
