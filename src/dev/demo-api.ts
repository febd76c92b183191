import { signSupportRequest, SUPPORT_SIGNATURE_HEADER, SUPPORT_TIMESTAMP_HEADER } from '../triggers/http/signatures';
import { sleep } from './wait';

/** The demo talks to its own HTTP API the way a marketer's tool and a support system would. */
export interface DemoApi {
  /** A marketer call with the API token; returns the parsed JSON body, throws on an unexpected status. */
  marketer<T = unknown>(method: string, path: string, body?: unknown, expect?: number[], contentType?: string): Promise<T>;
  /** A support-system webhook, HMAC-signed over the raw body with a timestamp. */
  support<T = unknown>(path: string, body: unknown, expect?: number[]): Promise<T>;
  /** A customer clicking a signed link and posting a form (surveys); returns the status (after waiting out a 429). */
  form(url: string, fields: Record<string, string>): Promise<number>;
}

export function demoApi(baseUrl: string, token: string, supportSecret: string): DemoApi {
  const urlOf = (path: string) => new URL(path, `${baseUrl}/`);
  /** The path and query as on the request line: what a support signature covers. */
  const requestPath = (path: string) => {
    const url = urlOf(path);
    return url.pathname + url.search;
  };
  async function call<T>(method: string, path: string, headers: Record<string, string>, body: string | undefined, expect: number[]): Promise<T> {
    const response = await fetch(urlOf(path), { method, headers, body });
    const text = await response.text();
    if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    marketer(method, path, body, expect = [200, 201, 202], contentType = 'application/json') {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = contentType;
      const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
      return call(method, path, headers, payload, expect);
    },
    support(path, body, expect = [200, 201, 202]) {
      const raw = JSON.stringify(body);
      const timestamp = Math.floor(Date.now() / 1000);
      return call('POST', path, {
        'content-type': 'application/json',
        [SUPPORT_TIMESTAMP_HEADER]: String(timestamp),
        [SUPPORT_SIGNATURE_HEADER]: signSupportRequest(supportSecret, { timestamp, method: 'POST', path: requestPath(path), rawBody: raw }),
      }, raw, expect);
    },
    async form(url, fields) {
      for (;;) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams(fields).toString(),
        });
        await response.text();
        // The demo polls a survey until its journey waits for the answer, which can pass the link rate limit.
        if (response.status !== 429) return response.status;
        await sleep((Number(response.headers.get('retry-after')) || 1) * 1000);
      }
    },
  };
}
