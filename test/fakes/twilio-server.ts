import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countSmsSegments } from '../../src/delivery/sms-segments';

export interface TwilioRequest {
  method: string;
  path: string;
  accountSid: string | undefined;
  /** The decoded Basic credentials, if any. */
  auth: { username: string; password: string } | undefined;
  form: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export type TwilioFailure =
  | { kind: 'error'; status: number; code: number; message: string }
  | { kind: 'http'; status: number; body?: string };

export interface FakeTwilioServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  accountSid: string;
  authToken: string;
  requests: TwilioRequest[];
  /** Answer messages to this number with a Twilio error body or a bare HTTP status. */
  failFor(to: string, failure: TwilioFailure): void;
  close(): Promise<void>;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/**
 * Speaks the part of Twilio's REST API the SMS transport uses:
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form encoded, HTTP basic auth.
 */
export async function startTwilioServer(
  credentials: { accountSid?: string; authToken?: string } = {},
): Promise<FakeTwilioServer> {
  const accountSid = credentials.accountSid ?? `AC${hex(16)}`;
  const authToken = credentials.authToken ?? hex(16);
  const requests: TwilioRequest[] = [];
  const failures = new Map<string, TwilioFailure>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
      const header = req.headers.authorization;
      let auth: TwilioRequest['auth'];
      if (header?.startsWith('Basic ')) {
        const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        auth = { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      }
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      requests.push({ method: req.method ?? '', path: url.pathname, accountSid: match?.[1], auth, form, headers: req.headers });

      const send = (status: number, body: unknown) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(text);
      };
      if (!match || req.method !== 'POST') return send(404, twilioError(404, 20404, 'The requested resource was not found'));
      if (!auth || auth.username !== accountSid || auth.password !== authToken || match[1] !== accountSid) {
        return send(401, twilioError(401, 20003, 'Authenticate'));
      }
      if (!form.To) return send(400, twilioError(400, 21604, "A 'To' phone number is required."));
      if (!form.From && !form.MessagingServiceSid) return send(400, twilioError(400, 21603, "A 'From' phone number is required."));
      if (!form.Body) return send(400, twilioError(400, 21602, 'Message body is required.'));
      const failure = failures.get(form.To);
      if (failure?.kind === 'error') return send(failure.status, twilioError(failure.status, failure.code, failure.message));
      if (failure?.kind === 'http') return send(failure.status, failure.body ?? '');

      const sid = `SM${hex(16)}`;
      const now = new Date().toUTCString().replace('GMT', '+0000');
      send(201, {
        account_sid: accountSid,
        api_version: '2010-04-01',
        body: form.Body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: form.From ?? null,
        messaging_service_sid: form.MessagingServiceSid ?? null,
        num_media: '0',
        num_segments: String(countSmsSegments(form.Body).segments),
        price: null,
        price_unit: 'USD',
        sid,
        status: form.MessagingServiceSid && !form.From ? 'accepted' : 'queued',
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to: form.To,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    failFor(to, failure) {
      failures.set(to, failure);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
