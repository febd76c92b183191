/**
 * What went wrong with a send, in the terms the caller acts on:
 * - `retryable`: try again later (temporary SMTP reply, connection trouble, HTTP 429/5xx);
 * - `permanent`: will not succeed as is (5xx bounce, other 4xx API errors); for a bounce on RCPT the
 *   caller suppresses the address (`suppressAddress`);
 * - `opted-out`: the recipient unsubscribed at the provider (Twilio 21610);
 * - `invalid-address`: the address or number cannot receive messages.
 */
export type DeliveryErrorKind = 'retryable' | 'permanent' | 'opted-out' | 'invalid-address';

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly kind: DeliveryErrorKind,
    readonly channel: 'email' | 'sms',
    message: string,
    readonly details: {
      /** SMTP reply code or HTTP status. */
      status?: number;
      /** nodemailer code (ESOCKET, EENVELOPE, ...) or Twilio error code (21610, ...). */
      code?: string | number;
      /** SMTP command during which it failed (`RCPT TO`, `CONN`, ...). */
      command?: string;
      /** True when the recipient address itself was refused: stop sending to it. */
      suppressAddress?: boolean;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

export function isDeliveryError(err: unknown): err is DeliveryError {
  return err instanceof DeliveryError;
}

/** Socket-level failures: the server may well answer next time. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPROTOCOL',
]);

interface SmtpLikeError {
  message?: string;
  code?: string;
  originalCode?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

/** Classifies an error from nodemailer (its `responseCode`, `code`, `command`). */
export function classifySmtpError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpLikeError;
  const message = e.message ?? String(err);
  const details = { status: e.responseCode, code: e.originalCode ?? e.code, command: e.command };
  const cause = { cause: err };
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 400 && e.responseCode < 500) return new DeliveryError('retryable', 'email', message, details, cause);
    if (e.responseCode >= 500) {
      const onRecipient = e.command === 'RCPT TO';
      return new DeliveryError('permanent', 'email', message, { ...details, suppressAddress: onRecipient }, cause);
    }
  }
  if ((e.code && CONNECTION_CODES.has(e.code)) || (e.originalCode && CONNECTION_CODES.has(e.originalCode))) {
    return new DeliveryError('retryable', 'email', message, details, cause);
  }
  // refused locally before talking to a server: a malformed or missing recipient
  if (e.code === 'EENVELOPE') return new DeliveryError('invalid-address', 'email', message, { ...details, suppressAddress: true }, cause);
  if (e.code && ['EAUTH', 'ENOAUTH', 'ECONFIG', 'EMESSAGE', 'EMAXRECIPIENTS', 'EREQUIRETLS'].includes(e.code)) {
    return new DeliveryError('permanent', 'email', message, details, cause);
  }
  return new DeliveryError('retryable', 'email', message, details, cause);
}

/** Twilio error codes meaning "this number cannot receive this message". */
export const TWILIO_INVALID_NUMBER_CODES = new Set([
  21211, // invalid 'To' phone number
  21214, // 'To' number cannot be reached
  21217, // phone number does not appear to be valid
  21401, // invalid phone number
  21407, // number type not supported
  21421, // PhoneNumber is invalid
  21612, // 'To' number is not currently reachable via SMS
  21614, // 'To' number is not a valid mobile number
  21635, // 'To' number cannot be a landline
]);
export const TWILIO_OPTED_OUT = 21610;

interface TwilioLikeError {
  message?: string;
  status?: number;
  code?: number | string;
}

/** Classifies an error thrown by the twilio SDK (RestException: `status`, `code`) or by its HTTP layer. */
export function classifyTwilioError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as TwilioLikeError;
  const message = e.message ?? String(err);
  const cause = { cause: err };
  const code = e.code;
  const details = { status: e.status, code };
  if (code === TWILIO_OPTED_OUT) return new DeliveryError('opted-out', 'sms', message, { ...details, suppressAddress: true }, cause);
  if (typeof code === 'number' && TWILIO_INVALID_NUMBER_CODES.has(code)) {
    return new DeliveryError('invalid-address', 'sms', message, { ...details, suppressAddress: true }, cause);
  }
  if (typeof e.status === 'number') {
    if (e.status === 429 || e.status >= 500) return new DeliveryError('retryable', 'sms', message, details, cause);
    if (e.status >= 400) return new DeliveryError('permanent', 'sms', message, details, cause);
  }
  // no HTTP answer at all: network trouble
  return new DeliveryError('retryable', 'sms', message, details, cause);
}

/** Failures that happen before any provider could have taken the message. */
const NEVER_REACHED_CODES = new Set(['ECONNREFUSED', 'EDNS', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when the provider certainly did not take the message: it answered with a refusal (SMTP 4xx reply, HTTP 4xx
 * including 429), or it was never reached. Anything else (a reset or timeout mid-transfer, an HTTP 5xx) leaves the
 * message in doubt: it may have gone out.
 */
export function certainlyNotSent(err: DeliveryError): boolean {
  const { status, code, command } = err.details;
  if (typeof status === 'number' && status >= 400 && status < 500) return true;
  if (typeof code === 'string' && NEVER_REACHED_CODES.has(code)) return true;
  return command === 'CONN';
}
