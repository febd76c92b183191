import { createHmac } from 'node:crypto';
import { sleep } from './util';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface RequestOptions {
  /** Sent with every attempt of this request, unchanged. */
  idempotencyKey?: string;
  /** Sign each attempt as the support system does (fresh timestamp, HMAC over "<timestamp>.<raw body>"). */
  signed?: boolean;
  /** How long retries may go on (connection errors and 5xx), from the first attempt. */
  retryForMs?: number;
  /** Other statuses to retry as well (409 "the same key is still in progress", for instance). */
  retryStatuses?: number[];
  /** Sent as they are with every attempt (a signature captured earlier, to replay it). */
  headers?: Record<string, string>;
}

export interface ClientStats {
  requests: number;
  attempts: number;
  /** Attempts that got no answer (connection refused or reset, timeout). */
  connectionErrors: number;
  /** Attempts answered 5xx. */
  serverErrors: number;
  /** Attempts answered with one of `retryStatuses`. */
  retriedStatuses: number;
}

/**
 * The API as its clients see it: a marketer token, the support system's HMAC signature, and the retries a careful
 * client makes (connection errors and 5xx, with backoff, the same Idempotency-Key every time).
 */
export class ApiClient {
  readonly stats: ClientStats = { requests: 0, attempts: 0, connectionErrors: 0, serverErrors: 0, retriedStatuses: 0 };

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly webhookSecret: string,
  ) {}

  async request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiAnswer> {
    this.stats.requests++;
    const raw = body === undefined ? undefined : JSON.stringify(body);
    const deadline = Date.now() + (options.retryForMs ?? 60_000);
    let delay = 200;
    for (;;) {
      this.stats.attempts++;
      const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
      if (raw !== undefined) headers['content-type'] = 'application/json';
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      if (options.signed) Object.assign(headers, this.signedHeaders(method, path, raw ?? ''));
      Object.assign(headers, options.headers);
      let answer: ApiAnswer | undefined;
      let failure: string;
      try {
        const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: raw, signal: AbortSignal.timeout(20_000) });
        const text = await res.text();
        answer = { status: res.status, body: text ? safeJson(text) : undefined };
        const retryStatus = options.retryStatuses?.includes(res.status) ?? false;
        if (res.status < 500 && !retryStatus) return answer;
        if (retryStatus) this.stats.retriedStatuses++;
        else this.stats.serverErrors++;
        failure = `HTTP ${res.status}: ${text.slice(0, 200)}`;
      } catch (err) {
        this.stats.connectionErrors++;
        failure = describeFetchError(err);
      }
      if (Date.now() + delay > deadline) {
        if (answer) return answer;
        throw new Error(`${method} ${path}: no answer after retrying until the deadline (${failure})`);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** `x-retention-timestamp` and `x-retention-signature` for this request, signed now (README: support webhooks). */
  signedHeaders(method: string, path: string, raw: string): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const hex = createHmac('sha256', this.webhookSecret).update(`${timestamp}.${method}.${path}.${raw}`).digest('hex');
    return { 'x-retention-timestamp': timestamp, 'x-retention-signature': `sha256=${hex}` };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}

/** Throws unless the answer has one of the expected statuses. */
export function expectStatus(answer: ApiAnswer, what: string, ...statuses: number[]): ApiAnswer {
  if (!statuses.includes(answer.status)) {
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  return answer;
}
