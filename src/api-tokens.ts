/**
 * Marketer API tokens (API_TOKENS): each has a name (for logs and audit, never the secret) and scopes (what it may do).
 *
 * API_TOKENS is a comma-separated list. An entry is either
 * - `name:scope+scope:secret`, e.g. `dashboard:reports:read:<secret>` or `crm:customers:write+journeys:write:<secret>`
 *   (`*` for every scope), or
 * - a bare `<secret>` without any `:`: every scope, as every token had before scopes existed, named `token-<n>` after
 *   its position in the list (`token-1` for the first entry).
 */

/** Every scope a token can hold; a `:write` scope includes the `:read` scope of the same resource. */
export const API_SCOPES = ['reports:read', 'customers:read', 'customers:write', 'journeys:read', 'journeys:write'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** What each scope allows, for the README and the OpenAPI document. */
export const SCOPE_MEANINGS: Record<ApiScope, string> = {
  'reports:read': 'the report page and report data (GET /reports, GET /reports/data)',
  'customers:read': 'reading customer profiles (GET /customers/{id})',
  'customers:write': 'customer profiles, consent, imports, customer events and NPS answers (includes customers:read)',
  'journeys:read': "reading journeys (a customer's journeys, a journey's live state)",
  'journeys:write': 'starting campaigns and journeys, cancelling journeys (includes journeys:read)',
};

const IMPLIED: Partial<Record<ApiScope, readonly ApiScope[]>> = {
  'customers:write': ['customers:read'],
  'journeys:write': ['journeys:read'],
};

export interface ApiToken {
  /** Shown in logs and available to handlers (request.tokenName); never the secret. */
  readonly name: string;
  /** Every scope the token holds, implied ones included. */
  readonly scopes: readonly ApiScope[];
  /** What the client sends (`Authorization: Bearer <secret>`). */
  readonly secret: string;
}

export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SCOPE_LIST = String.raw`(?:\*|[a-z]+:[a-z]+)(?:\+(?:\*|[a-z]+:[a-z]+))*`;
const NAMED_ENTRY = new RegExp(String.raw`^([^:]*):(${SCOPE_LIST}):(.*)$`);
/** What a client can send in an Authorization header: printable ASCII, no spaces. */
const PRESENTABLE = /^[\x21-\x7e]+$/;

export function hasScope(token: ApiToken, scope: ApiScope): boolean {
  return token.scopes.includes(scope);
}

function expand(scopes: readonly ApiScope[]): ApiScope[] {
  const all = new Set<ApiScope>(scopes.flatMap((scope) => [scope, ...(IMPLIED[scope] ?? [])]));
  return API_SCOPES.filter((scope) => all.has(scope));
}

/** A token holding every scope (bare API_TOKENS entries, the development token). */
export function allPowerfulToken(name: string, secret: string): ApiToken {
  return { name, scopes: [...API_SCOPES], secret };
}

export type ParsedApiTokens = { ok: true; tokens: ApiToken[] } | { ok: false; problems: string[] };

/**
 * Parses API_TOKENS. Problems name the entry by position (and name), never its secret, since the message ends up in
 * logs: one per bad entry.
 */
export function parseApiTokens(value: string): ParsedApiTokens {
  const entries = value.split(',').map((entry) => entry.trim());
  const problems: string[] = [];
  const tokens: ApiToken[] = [];
  const names = new Map<string, number>();
  const secrets = new Map<string, number>();
  entries.forEach((entry, index) => {
    if (entry === '') return;
    const position = index + 1;
    let token: ApiToken;
    if (!entry.includes(':')) {
      token = allPowerfulToken(`token-${position}`, entry);
    } else {
      const match = NAMED_ENTRY.exec(entry);
      if (!match) {
        problems.push(`entry ${position}: expected name:scope+scope:secret, e.g. dashboard:reports:read:<secret> (a bare token cannot contain ":")`);
        return;
      }
      const [, name = '', scopeList = '', secret = ''] = match;
      if (!NAME.test(name)) {
        problems.push(`entry ${position}: expected a name of 1 to 64 letters, digits, ".", "_" or "-" before the first ":"`);
        return;
      }
      const scopes = scopeList.split('+');
      const unknown = scopes.filter((scope) => scope !== '*' && !(API_SCOPES as readonly string[]).includes(scope));
      if (unknown.length > 0) {
        problems.push(`entry ${position} (${name}): unknown scope ${unknown.join(', ')} (expected ${API_SCOPES.join(', ')} or *, joined with +)`);
        return;
      }
      token = { name, scopes: scopes.includes('*') ? [...API_SCOPES] : expand(scopes as ApiScope[]), secret };
    }
    const label = `entry ${position} (${token.name})`;
    if (token.secret.length < MIN_TOKEN_LENGTH) {
      problems.push(`${label}: expected a token of at least ${MIN_TOKEN_LENGTH} characters`);
      return;
    }
    if (!PRESENTABLE.test(token.secret)) {
      problems.push(`${label}: expected a token of printable ASCII characters without spaces (it is sent in the Authorization header)`);
      return;
    }
    const sameName = names.get(token.name);
    if (sameName !== undefined) {
      problems.push(`${label}: the name ${token.name} is already entry ${sameName}'s`);
      return;
    }
    const sameSecret = secrets.get(token.secret);
    if (sameSecret !== undefined) {
      problems.push(`${label}: the same token as entry ${sameSecret} (one name per token)`);
      return;
    }
    names.set(token.name, position);
    secrets.set(token.secret, position);
    tokens.push(token);
  });
  if (problems.length === 0 && tokens.length === 0) problems.push('expected at least one token');
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tokens };
}
