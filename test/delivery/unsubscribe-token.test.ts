import { signUnsubscribe, unsubscribeUrl, verifyUnsubscribe, verifyUnsubscribeUrl } from '../../src/delivery/unsubscribe-token';

const SECRET = 'test-secret-please-rotate';

describe('unsubscribe tokens', () => {
  test('sign is HMAC-SHA256 in base64url and verifies', () => {
    const token = signUnsubscribe(SECRET, 'cus_1', 'email');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signUnsubscribe(SECRET, 'cus_1', 'email')).toBe(token);
    expect(verifyUnsubscribe(SECRET, 'cus_1', 'email', token)).toBe(true);
  });

  test('rejects another customer, channel, secret or a tampered token', () => {
    const token = signUnsubscribe(SECRET, 'cus_1', 'email');
    expect(verifyUnsubscribe(SECRET, 'cus_2', 'email', token)).toBe(false);
    expect(verifyUnsubscribe(SECRET, 'cus_1', 'sms', token)).toBe(false);
    expect(verifyUnsubscribe('other-secret', 'cus_1', 'email', token)).toBe(false);
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    expect(verifyUnsubscribe(SECRET, 'cus_1', 'email', flipped)).toBe(false);
    expect(verifyUnsubscribe(SECRET, 'cus_1', 'email', token.slice(0, 20))).toBe(false);
    expect(verifyUnsubscribe(SECRET, 'cus_1', 'email', '')).toBe(false);
  });

  test('links round-trip and forged links fail', () => {
    const link = unsubscribeUrl('https://retention.example.com', SECRET, 'cus 1&x', 'sms');
    expect(link.startsWith('https://retention.example.com/unsubscribe?c=cus+1%26x&ch=sms&t=')).toBe(true);
    expect(verifyUnsubscribeUrl(SECRET, link)).toEqual({ customerId: 'cus 1&x', channel: 'sms' });
    expect(verifyUnsubscribeUrl(SECRET, link.replace('ch=sms', 'ch=email'))).toBeNull();
    expect(verifyUnsubscribeUrl(SECRET, 'not a url')).toBeNull();
  });
});
