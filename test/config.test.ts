import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('gives the embedded setup when nothing is set', () => {
    const config = loadConfig({});
    expect(config.temporal.embedded).toBe(true);
    expect(config.temporal.address).toBe('localhost:7233');
    expect(config.temporal.taskQueue).toBe('retention');
    expect(config.database.url).toBe(`sqlite:${path.resolve('.data', 'retention.sqlite')}`);
    expect(config.sms).toBeUndefined();
    expect(config.email.smtpUrl).toBeUndefined();
  });

  it('uses a configured cluster and treats empty variables as unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'temporal.prod:7233', TEMPORAL_API_KEY: 'k', SMTP_URL: '' });
    expect(config.temporal.embedded).toBe(false);
    expect(config.temporal.address).toBe('temporal.prod:7233');
    expect(config.temporal.tls).toBe(true);
    expect(config.email.smtpUrl).toBeUndefined();
  });

  it.each([
    ['TEMPORAL_ADDRESS', 'no-port', 'expected host:port'],
    ['HTTP_PORT', '99999', 'expected a port number'],
    ['DATABASE_URL', 'mysql://x', 'expected sqlite:<file> or postgres://'],
    ['TEMPORAL_TLS', 'maybe', 'expected true or false'],
    ['TWILIO_ACCOUNT_SID', 'nope', 'expected an account SID'],
  ])('names %s and what it expected when it is %p', (variable, value, expected) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${variable}: ${expected}`);
    expect((error as Error).message).toContain(JSON.stringify(value));
  });

  it('requires Twilio credentials and a sender together', () => {
    const sid = `AC${'a'.repeat(32)}`;
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: sid })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't' })).toThrow(/TWILIO_FROM_NUMBER/);
    const config = loadConfig({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '+15005550006' });
    expect(config.sms).toEqual({ accountSid: sid, authToken: 't', fromNumber: '+15005550006', messagingServiceSid: undefined });
  });
});
