import { createHmac, timingSafeEqual } from 'node:crypto';

export type UnsubscribeChannel = 'email' | 'sms';

function mac(secret: string, customerId: string, channel: UnsubscribeChannel): Buffer {
  // the separator cannot occur in either part's meaning, so ("a", "bemail") and ("ab", "email") differ
  return createHmac('sha256', secret).update(`${customerId}\n${channel}`).digest();
}

/** HMAC-SHA256 over customer id and channel, base64url. */
export function signUnsubscribe(secret: string, customerId: string, channel: UnsubscribeChannel): string {
  if (!secret) throw new Error('unsubscribe secret must not be empty');
  return mac(secret, customerId, channel).toString('base64url');
}

/** Constant-time check of a token from a link. */
export function verifyUnsubscribe(secret: string, customerId: string, channel: UnsubscribeChannel, token: string): boolean {
  if (!secret || typeof token !== 'string' || !/^[A-Za-z0-9_-]+$/.test(token)) return false;
  const expected = mac(secret, customerId, channel);
  const given = Buffer.from(token, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `<base>/unsubscribe?c=<customer>&ch=<channel>&t=<token>`: the one-click link for List-Unsubscribe and templates. */
export function unsubscribeUrl(baseUrl: string, secret: string, customerId: string, channel: UnsubscribeChannel): string {
  const url = new URL('unsubscribe', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('c', customerId);
  url.searchParams.set('ch', channel);
  url.searchParams.set('t', signUnsubscribe(secret, customerId, channel));
  return url.toString();
}

/** Reads `c`, `ch`, `t` back from an unsubscribe link and verifies them; null when forged or malformed. */
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
  return verifyUnsubscribe(secret, customerId, channel, token) ? { customerId, channel } : null;
}
