import path from 'node:path';
import { ConfigError, loadConfig, requireSafeToServe, unsafeToServe, WORKER_DEFAULTS } from '../src/config';

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

  it('sizes the worker: a bounded workflow cache by default, each setting from its variable', () => {
    expect(loadConfig({}).worker).toEqual({
      maxCachedWorkflows: WORKER_DEFAULTS.maxCachedWorkflows,
      workflowHeapMb: WORKER_DEFAULTS.workflowHeapMb,
      maxConcurrentWorkflowTaskExecutions: WORKER_DEFAULTS.maxConcurrentWorkflowTasks,
      maxConcurrentActivityTaskExecutions: WORKER_DEFAULTS.maxConcurrentActivities,
      maxConcurrentLocalActivityExecutions: WORKER_DEFAULTS.maxConcurrentLocalActivities,
    });
    // Far below the SDK's default (sized from the heap limit: thousands of workflows on a 4 GB heap).
    expect(WORKER_DEFAULTS.maxCachedWorkflows).toBeLessThanOrEqual(500);
    const config = loadConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '100',
      WORKER_WORKFLOW_HEAP_MB: '300',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '30',
    });
    expect(config.worker).toEqual({
      maxCachedWorkflows: 100,
      workflowHeapMb: 300,
      maxConcurrentWorkflowTaskExecutions: 10,
      maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentLocalActivityExecutions: 30,
    });
  });

  it.each([
    ['WORKER_MAX_CACHED_WORKFLOWS', '1', 'expected at least 2 workflows'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'many', 'expected number'],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0', 'expected at least 1 activity'],
    ['WORKER_WORKFLOW_HEAP_MB', '64', 'expected at least 128 MB'],
  ])('refuses %s=%p', (variable, value, expected) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}: .*${expected}`, 'i'));
  });

  it('limits link requests and failed authentications per client address by default; each limit from its variables', () => {
    expect(loadConfig({}).http).toMatchObject({
      trustProxyHops: 1,
      rateLimits: { links: { max: 60, windowMs: 60_000 }, failedAuth: { max: 20, windowMs: 15 * 60_000 } },
    });
    const config = loadConfig({
      RATE_LIMIT_LINKS: '600',
      RATE_LIMIT_LINKS_WINDOW: '10 minutes',
      RATE_LIMIT_FAILED_AUTH: '5',
      RATE_LIMIT_FAILED_AUTH_WINDOW: '1 hour',
      TRUST_PROXY_HOPS: '0',
    });
    expect(config.http).toMatchObject({
      trustProxyHops: 0,
      rateLimits: { links: { max: 600, windowMs: 600_000 }, failedAuth: { max: 5, windowMs: 3_600_000 } },
    });
  });

  it.each([
    ['RATE_LIMIT_LINKS', '0', 'expected at least 1 request'],
    ['RATE_LIMIT_FAILED_AUTH', 'lots', 'expected number'],
    ['RATE_LIMIT_LINKS_WINDOW', '500ms', 'expected a duration of at least 1 second'],
    ['RATE_LIMIT_FAILED_AUTH_WINDOW', 'soon', 'expected a duration of at least 1 second'],
    ['TRUST_PROXY_HOPS', '-1', 'expected 0 to 10 proxies'],
  ])('refuses %s=%p', (variable, value, expected) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}: .*${expected}`, 'i'));
  });

  it('closes survey links 30 days after sending and honours old unsubscribe links to the end of their last day, each from its variable', () => {
    const defaults = loadConfig({});
    expect(defaults.links.surveyValidForMs).toBe(30 * 86_400_000);
    expect(defaults.links.legacyUnsubscribeUntil.toISOString()).toBe('2027-07-01T00:00:00.000Z');
    const set = loadConfig({ SURVEY_LINK_VALID_FOR: '14 days', LEGACY_UNSUBSCRIBE_LINKS_UNTIL: '2027-01-31' });
    expect(set.links.surveyValidForMs).toBe(14 * 86_400_000);
    expect(set.links.legacyUnsubscribeUntil.toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(() => loadConfig({ SURVEY_LINK_VALID_FOR: '5 minutes' })).toThrow(/SURVEY_LINK_VALID_FOR: expected a duration of at least 1 hour/);
    expect(() => loadConfig({ LEGACY_UNSUBSCRIBE_LINKS_UNTIL: 'next summer' })).toThrow(/LEGACY_UNSUBSCRIBE_LINKS_UNTIL: expected a date such as 2027-06-30/);
  });

  it('refuses more concurrent workflow tasks than cached workflows', () => {
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20' })).toThrow(
      /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected at most WORKER_MAX_CACHED_WORKFLOWS \(10\)/,
    );
  });
});

describe('development settings outside development', () => {
  const deploy = {
    API_TOKENS: 'dashboard-token-0123456789,ops-token-0123456789',
    SUPPORT_WEBHOOK_SECRET: 'support-secret-0123456789',
    LINK_SIGNING_SECRET: 'link-secret-0123456789',
    PUBLIC_BASE_URL: 'https://retention.example.com',
  };
  const variables = (lines: string[]) => lines.map((line) => line.slice(0, line.indexOf(':')));

  it('are refused by default: the API names the four variables to set, the worker the two it uses', () => {
    const config = loadConfig({});
    expect(variables(unsafeToServe(config, 'api'))).toEqual(['API_TOKENS', 'SUPPORT_WEBHOOK_SECRET', 'LINK_SIGNING_SECRET', 'PUBLIC_BASE_URL']);
    expect(variables(unsafeToServe(config, 'worker'))).toEqual(['LINK_SIGNING_SECRET', 'PUBLIC_BASE_URL']);
    expect(() => requireSafeToServe(config, 'worker')).toThrow(ConfigError);
  });

  it('names exactly the one variable left to its development default', () => {
    for (const name of Object.keys(deploy) as (keyof typeof deploy)[]) {
      const { [name]: _left, ...rest } = deploy;
      expect(variables(unsafeToServe(loadConfig(rest), 'api'))).toEqual([name]);
    }
  });

  it('wants PUBLIC_BASE_URL on https outside development', () => {
    const lines = unsafeToServe(loadConfig({ ...deploy, PUBLIC_BASE_URL: 'http://retention.example.com' }), 'worker');
    expect(lines).toEqual(['PUBLIC_BASE_URL: expected an https address outside development (got "http://retention.example.com")']);
  });

  it('are allowed with every secret set and an https address, and in development', () => {
    expect(unsafeToServe(loadConfig(deploy), 'api')).toEqual([]);
    expect(() => requireSafeToServe(loadConfig(deploy), 'api')).not.toThrow();
    expect(unsafeToServe(loadConfig({ RETENTION_ENV: 'development' }), 'api')).toEqual([]);
    expect(loadConfig({}).development).toBe(false);
  });

  it('bounds WEBHOOK_TOLERANCE: a signed support request stays replayable that long', () => {
    expect(loadConfig({ WEBHOOK_TOLERANCE: '15 minutes' }).http.webhookToleranceMs).toBe(15 * 60_000);
    expect(() => loadConfig({ WEBHOOK_TOLERANCE: '1 hour' })).toThrow('WEBHOOK_TOLERANCE: expected at most 15 minutes');
  });

  it('names RETENTION_ENV when it is neither development nor production', () => {
    expect(() => loadConfig({ RETENTION_ENV: 'dev' })).toThrow('RETENTION_ENV: expected development or production (got "dev")');
  });
});
