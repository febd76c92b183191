import { API_SCOPES, parseApiTokens } from '../src/api-tokens';
import { ConfigError, loadConfig } from '../src/config';

const SECRET = 'a-secret-of-enough-length-0123';

function problems(value: string): string[] {
  const parsed = parseApiTokens(value);
  return parsed.ok ? [] : parsed.problems;
}

describe('API_TOKENS: names and scopes', () => {
  it('keeps bare entries all-powerful, named token-<position>, as before scopes existed', () => {
    const config = loadConfig({ API_TOKENS: 'dashboard-token-0123456789, ops-token-0123456789' });
    expect(config.http.apiTokens).toEqual([
      { name: 'token-1', scopes: [...API_SCOPES], secret: 'dashboard-token-0123456789' },
      { name: 'token-2', scopes: [...API_SCOPES], secret: 'ops-token-0123456789' },
    ]);
  });

  it('reads name:scope+scope:secret entries; a write scope includes its read scope; * is every scope', () => {
    const config = loadConfig({
      API_TOKENS: [
        `dashboard:reports:read:${SECRET}-1`,
        `crm-sync:customers:write+journeys:read:${SECRET}:with:colons`,
        `ops:*:${SECRET}-3`,
        `bare-${SECRET}`,
      ].join(','),
    });
    expect(config.http.apiTokens).toEqual([
      { name: 'dashboard', scopes: ['reports:read'], secret: `${SECRET}-1` },
      { name: 'crm-sync', scopes: ['customers:read', 'customers:write', 'journeys:read'], secret: `${SECRET}:with:colons` },
      { name: 'ops', scopes: [...API_SCOPES], secret: `${SECRET}-3` },
      { name: 'token-4', scopes: [...API_SCOPES], secret: `bare-${SECRET}` },
    ]);
  });

  it('gives the development token every scope, named development', () => {
    expect(loadConfig({}).http.apiTokens).toEqual([{ name: 'development', scopes: [...API_SCOPES], secret: 'dev-marketer-token-change-me' }]);
  });

  it.each([
    ['an unknown scope', `dash:report:read:${SECRET}`, 'entry 1 (dash): unknown scope report:read'],
    ['a scope list that is no list', `dash:reports-read:${SECRET}`, 'entry 1: expected name:scope+scope:secret'],
    ['a name with spaces', `my dash:reports:read:${SECRET}`, 'entry 1: expected a name of 1 to 64 letters'],
    ['a short token', 'dash:reports:read:short', 'entry 1 (dash): expected a token of at least 16 characters'],
    ['a short bare token', `${SECRET},short`, 'entry 2 (token-2): expected a token of at least 16 characters'],
    ['a token with spaces', `dash:reports:read:${SECRET} more`, 'entry 1 (dash): expected a token of printable ASCII characters without spaces'],
    ['a name used twice', `a:reports:read:${SECRET}-1,a:*:${SECRET}-2`, 'entry 2 (a): the name a is already entry 1'],
    ['a bare token named like another entry', `token-2:*:${SECRET}-1,${SECRET}-2`, 'entry 2 (token-2): the name token-2 is already entry 1'],
    ['one token under two names', `a:reports:read:${SECRET},b:*:${SECRET}`, 'entry 2 (b): the same token as entry 1'],
    ['no token', ' , ', 'expected at least one token'],
  ])('refuses %s, naming the entry', (_what, value, expected) => {
    expect(problems(value)).toEqual([expect.stringContaining(expected)]);
  });

  it('stops the program with a message naming API_TOKENS and each bad entry, without repeating any secret', () => {
    const value = `dash:reports:raed:${SECRET}-1,short,ok:*:${SECRET}-3`;
    let error: unknown;
    try {
      loadConfig({ API_TOKENS: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('API_TOKENS: entry 1 (dash): unknown scope reports:raed');
    expect(message).toContain('API_TOKENS: entry 2 (token-2): expected a token of at least 16 characters');
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('short,');
  });
});
