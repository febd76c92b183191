import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed link does. It is the first thing signed, so a token made for one purpose never verifies for another. */
export type LinkPurpose = 'unsubscribe' | 'survey';

/** Every link token: an HMAC-SHA256 in base64url without padding, 43 characters. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The signed text: JSON of [purpose and format, ...fields]. JSON keeps fields apart whatever characters they hold,
 * and its text never contains a raw line break, which every legacy signed text does (see legacy-link-tokens.ts).
 */
function signedText(purpose: LinkPurpose, fields: readonly string[]): string {
  return JSON.stringify([`${purpose}/v2`, ...fields]);
}

/** Constant-time comparison of a token from a link with the MAC it should be. */
export function tokenMatches(expected: Buffer, token: string): boolean {
  if (!LINK_TOKEN_PATTERN.test(token)) return false;
  const given = Buffer.from(token, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function hmac(secret: string, text: string): Buffer {
  if (!secret) throw new Error('the link signing secret must not be empty');
  return createHmac('sha256', secret).update(text).digest();
}

/** The token of a link for `purpose` naming `fields`, in this order. */
export function signLink(secret: string, purpose: LinkPurpose, fields: readonly string[]): string {
  return hmac(secret, signedText(purpose, fields)).toString('base64url');
}

export function verifyLink(secret: string, purpose: LinkPurpose, fields: readonly string[], token: string): boolean {
  return Boolean(secret) && tokenMatches(hmac(secret, signedText(purpose, fields)), token);
}

/** `<base>/<path>` with the query parameters in the given order. */
export function linkUrl(baseUrl: string, path: string, params: [string, string][]): string {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [name, value] of params) url.searchParams.set(name, value);
  return url.toString();
}
