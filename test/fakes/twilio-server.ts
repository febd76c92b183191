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

/** A message the server accepted (answered 201), as `GET .../Messages.json` lists it. */
export interface TwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  /** When it was accepted: `date_created` and `date_sent` of the listed message. */
  createdAt: Date;
}

export interface TwilioServerOptions {
  accountSid?: string;
  authToken?: string;
  /** Listen on this port of 127.0.0.1 (default: a free port chosen by the system). */
  port?: number;
  /** Messages accepted earlier (by a previous process): listed as if this server had accepted them. */
  messages?: TwilioMessage[];
  /**
   * Called for each message about to be accepted, after it is in `messages` and before the 201 answer:
   * the answer waits for it (a chaos test records the message here, or kills the sender before it hears back).
   */
  onMessage?: (message: TwilioMessage) => void | Promise<void>;
}

export interface FakeTwilioServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  accountSid: string;
  authToken: string;
  requests: TwilioRequest[];
  /** Messages accepted so far (201), oldest first. */
  messages: TwilioMessage[];
  /** Answer messages to this number with a Twilio error body or a bare HTTP status. */
  failFor(to: string, failure: TwilioFailure): void;
  /** Answer the next `count` authenticated Messages requests (create, list or fetch) with this failure. */
  failNext(count: number, failure: TwilioFailure): void;
  close(): Promise<void>;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function twilioDate(at: Date): string {
  return at.toUTCString().replace('GMT', '+0000');
}

/** A message resource in Twilio's JSON shape. */
function messageResource(accountSid: string, m: TwilioMessage, status: string, sent: boolean) {
  const created = twilioDate(m.createdAt);
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: created,
    date_sent: sent ? created : null,
    date_updated: created,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: String(countSmsSegments(m.body).segments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status,
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`,
  };
}

/** `DateSent>=2025-01-31` or `DateSent>=2025-01-31T09:00:00Z` (the SDK's iso8601DateTime), else undefined. */
function parseDateFilter(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Twilio's list page (`GET .../Messages.json`): To, From and DateSent filters, newest first, one page. */
function listPage(accountSid: string, url: URL, messages: TwilioMessage[]) {
  const q = url.searchParams;
  const to = q.get('To');
  const from = q.get('From');
  const after = parseDateFilter(q.get('DateSent>'));
  const before = parseDateFilter(q.get('DateSent<'));
  const on = q.get('DateSent');
  const pageSize = Math.min(Math.max(Number(q.get('PageSize') ?? 50) || 50, 1), 1000);
  const matching = messages
    .filter((m) => (to === null || m.to === to) && (from === null || m.from === from))
    .filter((m) => after === undefined || m.createdAt.getTime() >= after)
    .filter((m) => before === undefined || m.createdAt.getTime() <= before)
    .filter((m) => on === null || m.createdAt.toISOString().slice(0, 10) === on.slice(0, 10))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, pageSize);
  const uri = `${url.pathname}${url.search}`;
  return {
    messages: matching.map((m) => messageResource(accountSid, m, 'sent', true)),
    end: Math.max(matching.length - 1, 0),
    first_page_uri: uri,
    next_page_uri: null,
    page: 0,
    page_size: pageSize,
    previous_page_uri: null,
    start: 0,
    uri,
  };
}

/**
 * Speaks the part of Twilio's REST API the SMS transport uses: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
 * form encoded, HTTP basic auth; and, to find out whether an SMS already went out, `GET .../Messages.json` (Twilio's
 * list page, filtered by To, From and DateSent) and `GET .../Messages/{Sid}.json`.
 */
export async function startTwilioServer(options: TwilioServerOptions = {}): Promise<FakeTwilioServer> {
  const accountSid = options.accountSid ?? `AC${hex(16)}`;
  const authToken = options.authToken ?? hex(16);
  const requests: TwilioRequest[] = [];
  const messages: TwilioMessage[] = [...(options.messages ?? [])];
  const failures = new Map<string, TwilioFailure>();
  const nextFailures: TwilioFailure[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/(SM[0-9a-f]{32}))?\.json$/.exec(url.pathname);
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
      const notFound = () => send(404, twilioError(404, 20404, 'The requested resource was not found'));
      const single = match?.[2];
      if (!match || !(req.method === 'GET' || (req.method === 'POST' && !single))) return notFound();
      if (!auth || auth.username !== accountSid || auth.password !== authToken || match[1] !== accountSid) {
        return send(401, twilioError(401, 20003, 'Authenticate'));
      }
      const injected = nextFailures.shift();
      if (injected?.kind === 'error') return send(injected.status, twilioError(injected.status, injected.code, injected.message));
      if (injected?.kind === 'http') return send(injected.status, injected.body ?? '');
      if (req.method === 'GET') {
        if (!single) return send(200, listPage(accountSid, url, messages));
        const found = messages.find((m) => m.sid === single);
        return found ? send(200, messageResource(accountSid, found, 'sent', true)) : notFound();
      }
      if (!form.To) return send(400, twilioError(400, 21604, "A 'To' phone number is required."));
      if (!form.From && !form.MessagingServiceSid) return send(400, twilioError(400, 21603, "A 'From' phone number is required."));
      if (!form.Body) return send(400, twilioError(400, 21602, 'Message body is required.'));
      const failure = failures.get(form.To);
      if (failure?.kind === 'error') return send(failure.status, twilioError(failure.status, failure.code, failure.message));
      if (failure?.kind === 'http') return send(failure.status, failure.body ?? '');

      const message: TwilioMessage = {
        sid: `SM${hex(16)}`,
        to: form.To,
        from: form.From ?? null,
        messagingServiceSid: form.MessagingServiceSid ?? null,
        body: form.Body,
        createdAt: new Date(),
      };
      messages.push(message);
      const status = form.MessagingServiceSid && !form.From ? 'accepted' : 'queued';
      Promise.resolve()
        .then(() => options.onMessage?.(message))
        .then(
          () => send(201, messageResource(accountSid, message, status, false)),
          () => send(500, twilioError(500, 20500, 'Internal Server Error')),
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    messages,
    failFor(to, failure) {
      failures.set(to, failure);
    },
    failNext(count, failure) {
      for (let i = 0; i < count; i++) nextFailures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
