/** Thrown for a link whose signature does not match: forged, altered, truncated, or signed with another secret (HTTP 403). */
export class InvalidLinkError extends Error {
  override name = 'InvalidLinkError';
}

/** Thrown for a link we did sign that no longer works: its time is over (HTTP 410). */
export class ExpiredLinkError extends Error {
  override name = 'ExpiredLinkError';
}
