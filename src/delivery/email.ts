import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { SMTPPoolOptions, SendMailOptions } from 'nodemailer';
import type { AppConfig } from '../config';
import { classifySmtpError } from './errors';

export type EmailConfig = AppConfig['email'];

export interface DkimOptions {
  domainName: string;
  keySelector: string;
  /** PEM-encoded private key. */
  privateKey: string;
}

export interface EmailTransportOptions {
  /** Sign every message with DKIM (List-Unsubscribe and List-Unsubscribe-Post included in `h=`). */
  dkim?: DkimOptions;
  /** Extra SMTP settings (timeouts, TLS) merged over the ones derived from the config. */
  smtp?: Partial<SMTPPoolOptions>;
}

export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Deterministic id supplied by the caller, e.g. `<wf-id.step-id@retention.local>`; a retry reuses it. */
  messageId: string;
  unsubscribe: {
    /** One-click HTTPS link (RFC 8058), signed: see `unsubscribeUrl`. */
    url: string;
    /** `mailto:` fallback; defaults to `mailto:unsubscribe@<sender domain>?subject=unsubscribe`. */
    mailto?: string;
  };
  /** Overrides the configured sender. */
  from?: string;
}

export interface EmailSendResult {
  messageId: string;
  accepted: string[];
  /** SMTP server reply, when sent by SMTP. */
  response?: string;
  /** The written `.eml`, when sent to the local outbox. */
  file?: string;
}

export interface EmailTransport {
  readonly kind: 'smtp' | 'outbox';
  /** Sends one message; failures are thrown as `DeliveryError` (retryable, permanent, invalid-address). */
  sendEmail(msg: EmailMessage): Promise<EmailSendResult>;
  /** Closes pooled SMTP connections. */
  close(): void;
}

/**
 * Header field names DKIM signs: RFC 6376's recommended set plus the list headers, so a forwarder cannot
 * strip or alter the one-click unsubscribe (RFC 8058 requires both to be signed).
 */
export const DKIM_HEADER_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
].join(':');

function senderDomain(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'retention.local';
}

/** `wf-1.step-2@retention.local.eml` from `<wf-1.step-2@retention.local>`. */
export function outboxFileName(messageId: string): string {
  const bare = messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@+=-]/g, '_');
  if (!bare) throw new Error(`cannot derive a file name from message id ${JSON.stringify(messageId)}`);
  return `${bare}.eml`;
}

function mailOptions(from: string, msg: EmailMessage, dkim: DkimOptions | undefined): SendMailOptions {
  if (!/^<[^<>\s]+@[^<>\s]+>$/.test(msg.messageId)) {
    throw new Error(`messageId must look like <local@domain>: got ${JSON.stringify(msg.messageId)}`);
  }
  const sender = msg.from ?? from;
  const mailto = msg.unsubscribe.mailto ?? `mailto:unsubscribe@${senderDomain(sender)}?subject=unsubscribe`;
  return {
    from: sender,
    to: msg.to,
    subject: msg.subject,
    html: msg.html,
    text: msg.text,
    messageId: msg.messageId,
    // one List-Unsubscribe header holding both: <https://...>, <mailto:...>
    list: { unsubscribe: [[msg.unsubscribe.url, mailto]] },
    // nodemailer's `list` option has no One-Click header (RFC 8058)
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    dkim: dkim ? { ...dkim, headerFieldNames: DKIM_HEADER_FIELDS } : undefined,
  };
}

/**
 * With `config.smtpUrl`: a pooled SMTP transport (`poolSize` connections, `ratePerSecond` messages a second).
 * Without: the embedded outbox, one readable `.eml` per message in `outboxDir`, named by its Message-ID.
 */
export function createEmailTransport(config: EmailConfig, options: EmailTransportOptions = {}): EmailTransport {
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport({
      pool: true,
      url: config.smtpUrl,
      maxConnections: config.poolSize,
      rateLimit: config.ratePerSecond,
      rateDelta: 1000,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      ...options.smtp,
    } as SMTPPoolOptions & { pool: true });
    return {
      kind: 'smtp',
      async sendEmail(msg) {
        const mail = mailOptions(config.from, msg, options.dkim);
        try {
          const info = await transport.sendMail(mail);
          return {
            messageId: info.messageId,
            accepted: (info.accepted ?? []).map(String),
            response: info.response,
          };
        } catch (err) {
          throw classifySmtpError(err);
        }
      },
      close() {
        transport.close();
      },
    };
  }

  const outbox = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async sendEmail(msg) {
      const mail = mailOptions(config.from, msg, options.dkim);
      const info = await outbox.sendMail(mail);
      const raw = info.message as Buffer;
      await mkdir(config.outboxDir, { recursive: true });
      const file = path.join(config.outboxDir, outboxFileName(msg.messageId));
      // write then rename: a reader never sees half a message, and a retry replaces the same file
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, raw);
      await rename(tmp, file);
      return { messageId: info.messageId, accepted: [msg.to], file };
    },
    close() {
      outbox.close();
    },
  };
}
