import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import type { AppConfig } from '../config';
import { classifyTwilioError } from './errors';
import { countSmsSegments } from './sms-segments';

export type SmsConfig = AppConfig['sms'];

/**
 * A twilio `RequestClient` that sends every request to another base URL (a Twilio-shaped test server or
 * mock): the SDK builds absolute `https://<product>.twilio.com/...` URIs, so the rewrite happens here.
 */
export class RedirectingRequestClient extends twilio.RequestClient {
  private readonly target: URL;
  constructor(baseUrl: string, options?: ConstructorParameters<typeof twilio.RequestClient>[0]) {
    super(options);
    this.target = new URL(baseUrl);
  }

  override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const url = new URL(opts.uri);
    if (url.hostname === 'twilio.com' || url.hostname.endsWith('.twilio.com')) {
      url.protocol = this.target.protocol;
      url.host = this.target.host;
    }
    return super.request<TData>({ ...opts, uri: url.toString() });
  }
}

export interface SmsTransportOptions {
  /** Where the embedded outbox appends `sms.jsonl` when Twilio is not configured. */
  outboxDir: string;
  /** Twilio posts delivery status changes here. */
  statusCallbackUrl?: string;
  /** Replaces the SDK's HTTP client, e.g. a `RedirectingRequestClient` for tests. */
  httpClient?: InstanceType<typeof twilio.RequestClient>;
}

export interface SmsMessage {
  /** E.164 number. */
  to: string;
  body: string;
  /** Deterministic id from the caller (workflow + step); recorded in the outbox. */
  messageId?: string;
}

export interface SmsSendResult {
  providerMessageId: string;
  /** Twilio's status (`queued`, `accepted`, ...) or `outbox`. */
  status: string;
}

export interface SmsTransport {
  readonly kind: 'twilio' | 'outbox';
  /** Sends one SMS; failures are thrown as `DeliveryError` (retryable, permanent, opted-out, invalid-address). */
  sendSms(msg: SmsMessage): Promise<SmsSendResult>;
  /**
   * The provider id of a message to `to` with exactly this body created at or after `since`, if the provider has
   * one: how a send in doubt (the worker died after calling the provider) learns whether it went out.
   */
  findSent(query: SentSmsQuery): Promise<string | undefined>;
}

export interface SentSmsQuery {
  to: string;
  body: string;
  since: Date;
  messageId?: string;
}

/** How far the provider's clock may be behind ours when matching a message's creation time. */
const CLOCK_SKEW_MS = 60_000;
/** Messages to one number in the in-doubt window are few: the newest page is enough. */
const LOOKUP_PAGE = 50;
/** Twilio's REST calls (and so one send attempt) end after this long: the send lease is sized from it. */
export const TWILIO_REQUEST_TIMEOUT_MS = 15_000;

export const SMS_OUTBOX_FILE = 'sms.jsonl';

/**
 * With Twilio configured: `client.messages.create` from the number or messaging service. Without: the
 * embedded outbox, one JSON line per message in `<outboxDir>/sms.jsonl`.
 */
export function createSmsTransport(config: SmsConfig, options: SmsTransportOptions): SmsTransport {
  if (config) {
    const client = twilio(config.accountSid, config.authToken, options.httpClient ? { httpClient: options.httpClient } : { timeout: TWILIO_REQUEST_TIMEOUT_MS });
    return {
      kind: 'twilio',
      async findSent(query) {
        // Newest first; DateSent is not set while a message is queued, so match on the creation time instead.
        const messages = await client.messages.list({ to: query.to, limit: LOOKUP_PAGE }).catch((err: unknown) => {
          throw classifyTwilioError(err);
        });
        const since = query.since.getTime() - CLOCK_SKEW_MS;
        const match = messages.find(
          (m) => m.body === query.body && m.dateCreated.getTime() >= since && m.direction !== 'inbound' && (!config.fromNumber || m.from === config.fromNumber),
        );
        return match?.sid;
      },
      async sendSms(msg) {
        const sender = config.messagingServiceSid
          ? { messagingServiceSid: config.messagingServiceSid }
          : { from: config.fromNumber as string };
        try {
          const message = await client.messages.create({
            to: msg.to,
            body: msg.body,
            ...sender,
            ...(options.statusCallbackUrl ? { statusCallback: options.statusCallbackUrl } : {}),
          });
          return { providerMessageId: message.sid, status: message.status };
        } catch (err) {
          throw classifyTwilioError(err);
        }
      },
    };
  }

  const file = path.join(options.outboxDir, SMS_OUTBOX_FILE);
  const outboxId = (msg: SmsMessage) => `OB${createHash('sha256').update(msg.messageId ?? `${msg.to}\n${msg.body}\n${Date.now()}`).digest('hex').slice(0, 32)}`;
  return {
    kind: 'outbox',
    async findSent(query) {
      if (!query.messageId) return undefined;
      const sid = outboxId({ to: query.to, body: query.body, messageId: query.messageId });
      const lines = await readFile(file, 'utf8').catch(() => '');
      return lines.includes(`"sid":"${sid}"`) ? sid : undefined;
    },
    async sendSms(msg) {
      const providerMessageId = outboxId(msg);
      const segments = countSmsSegments(msg.body);
      const line = {
        sid: providerMessageId,
        messageId: msg.messageId,
        at: new Date().toISOString(),
        to: msg.to,
        body: msg.body,
        segments: segments.segments,
        encoding: segments.encoding,
        statusCallback: options.statusCallbackUrl,
      };
      await mkdir(options.outboxDir, { recursive: true });
      await appendFile(file, JSON.stringify(line) + '\n');
      return { providerMessageId, status: 'outbox' };
    },
  };
}
