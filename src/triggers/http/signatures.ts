import { createHmac } from 'node:crypto';
import { validateRequest } from 'twilio';
import { safeEqual } from './auth';

export const SUPPORT_TIMESTAMP_HEADER = 'x-retention-timestamp';
export const SUPPORT_SIGNATURE_HEADER = 'x-retention-signature';

/** What a support system signs: the request as sent, so a captured signature fits no other method, path or ticket. */
export interface SupportRequest {
  /** Unix seconds, also sent in `x-retention-timestamp`. */
  timestamp: number | string;
  /** Upper case, as on the request line. */
  method: string;
  /** Path and query string as on the request line, such as `/complaints/T-1/events`. */
  path: string;
  rawBody: string;
}

/** The text a support system's HMAC covers: `<timestamp>.<METHOD>.<path>.<raw body>`. */
function supportSigningText(request: SupportRequest): string {
  return `${request.timestamp}.${request.method.toUpperCase()}.${request.path}.${request.rawBody}`;
}

/**
 * The support system's signature: `sha256=<hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path>.<raw body>">` with the
 * shared secret, sent in `x-retention-signature` with the same unix-seconds timestamp in `x-retention-timestamp`.
 */
export function signSupportRequest(secret: string, request: SupportRequest): string {
  return `sha256=${createHmac('sha256', secret).update(supportSigningText(request)).digest('hex')}`;
}

export type SupportSignatureCheck =
  | { ok: true; timestampMs: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'bad-signature' | 'stale' };

/**
 * Checks the signature (constant time) over the method, path and exact body bytes, then that the signed timestamp
 * lies within `toleranceMs` of `now` either way: a captured request cannot be replayed later, nor sent to another
 * ticket or route, and clock skew is tolerated.
 */
export function verifySupportSignature(
  secret: string,
  headers: { timestamp: unknown; signature: unknown },
  request: Omit<SupportRequest, 'timestamp'>,
  now: Date,
  toleranceMs: number,
): SupportSignatureCheck {
  const { timestamp, signature } = headers;
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !timestamp || !signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^sha256=[0-9a-f]{64}$/i.test(signature)) return { ok: false, reason: 'malformed' };
  if (!safeEqual(signSupportRequest(secret, { ...request, timestamp }), signature.toLowerCase())) return { ok: false, reason: 'bad-signature' };
  const timestampMs = Number(timestamp) * 1000;
  if (Math.abs(now.getTime() - timestampMs) > toleranceMs) return { ok: false, reason: 'stale' };
  return { ok: true, timestampMs };
}

/**
 * Twilio's request signature (`X-Twilio-Signature`): HMAC-SHA1 with the account's auth token over the public URL
 * Twilio called and every posted parameter, checked by the twilio SDK. All parameters count, including ones
 * this code does not know: Twilio adds fields without notice, and they are signed too.
 */
export function verifyTwilioSignature(authToken: string, signature: unknown, url: string, params: Record<string, unknown>): boolean {
  if (typeof signature !== 'string' || signature.length === 0) return false;
  return validateRequest(authToken, signature, url, params);
}
