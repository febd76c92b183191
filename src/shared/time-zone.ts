/** True for an IANA zone (or UTC offset name) the runtime knows; Intl throws a RangeError for anything else. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The canonical zone names, for documents that list what is accepted (the OpenAPI enum). isTimeZone also takes the
 * older aliases the runtime knows (Asia/Calcutta) and offsets; those are accepted but not listed.
 */
export const TIME_ZONE_NAMES: readonly string[] = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])];
