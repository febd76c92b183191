import { isLegacyUnsubscribeToken } from './legacy-link-tokens';
import { linkUrl, signLink, verifyLink } from './link-signature';

export type UnsubscribeChannel = 'email' | 'sms';

/** How a token from a link was signed: as links are now, as before v2 (see legacy-link-tokens.ts), or not by us. */
export type TokenFormat = 'current' | 'legacy' | 'invalid';

/** HMAC-SHA256 over purpose "unsubscribe", customer id and channel, base64url (43 characters). */
export function signUnsubscribe(secret: string, customerId: string, channel: UnsubscribeChannel): string {
  return signLink(secret, 'unsubscribe', [customerId, channel]);
}

/** Constant-time check of a token from an unsubscribe link. */
export function unsubscribeTokenFormat(secret: string, customerId: string, channel: UnsubscribeChannel, token: string): TokenFormat {
  if (verifyLink(secret, 'unsubscribe', [customerId, channel], token)) return 'current';
  return isLegacyUnsubscribeToken(secret, customerId, channel, token) ? 'legacy' : 'invalid';
}

/** `<base>/unsubscribe?c=<customer>&ch=<channel>&t=<token>`: the one-click link for List-Unsubscribe and templates. */
export function unsubscribeUrl(baseUrl: string, secret: string, customerId: string, channel: UnsubscribeChannel): string {
  return linkUrl(baseUrl, 'unsubscribe', [
    ['c', customerId],
    ['ch', channel],
    ['t', signUnsubscribe(secret, customerId, channel)],
  ]);
}

/** Reads `c`, `ch`, `t` back from an unsubscribe link and verifies them (current format); null when forged or malformed. */
export function verifyUnsubscribeUrl(secret: string, link: string): { customerId: string; channel: UnsubscribeChannel } | null {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  const customerId = url.searchParams.get('c');
  const channel = url.searchParams.get('ch');
  const token = url.searchParams.get('t');
  if (!customerId || (channel !== 'email' && channel !== 'sms') || !token) return null;
  return unsubscribeTokenFormat(secret, customerId, channel, token) === 'current' ? { customerId, channel } : null;
}
