import { signUnsubscribe, unsubscribeTokenFormat, unsubscribeUrl, verifyUnsubscribeUrl } from '../../src/delivery/unsubscribe-token';

const SECRET = 'test-secret-please-rotate';

describe('unsubscribe tokens', () => {
  test('sign is HMAC-SHA256 in base64url and verifies', () => {
    const token = signUnsubscribe(SECRET, 'cus_1', 'email');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signUnsubscribe(SECRET, 'cus_1', 'email')).toBe(token);
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'email', token)).toBe('current');
  });

  test('rejects another customer, channel, secret or a tampered token', () => {
    const token = signUnsubscribe(SECRET, 'cus_1', 'email');
    expect(unsubscribeTokenFormat(SECRET, 'cus_2', 'email', token)).toBe('invalid');
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'sms', token)).toBe('invalid');
    expect(unsubscribeTokenFormat('other-secret', 'cus_1', 'email', token)).toBe('invalid');
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'email', flipped)).toBe('invalid');
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'email', token.slice(0, 20))).toBe('invalid');
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'email', '')).toBe('invalid');
  });

  test('links round-trip and forged links fail', () => {
    const link = unsubscribeUrl('https://retention.example.com', SECRET, 'cus 1&x', 'sms');
    expect(link.startsWith('https://retention.example.com/unsubscribe?c=cus+1%26x&ch=sms&t=')).toBe(true);
    expect(verifyUnsubscribeUrl(SECRET, link)).toEqual({ customerId: 'cus 1&x', channel: 'sms' });
    expect(verifyUnsubscribeUrl(SECRET, link.replace('ch=sms', 'ch=email'))).toBeNull();
    expect(verifyUnsubscribeUrl(SECRET, 'not a url')).toBeNull();
  });
});
