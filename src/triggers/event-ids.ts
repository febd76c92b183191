import { createHash, randomUUID } from 'node:crypto';
import { messageSchemas, type CustomerEvent, type SupportUpdate } from '../shared/messages';

/** What identifies a request when its body names no event id: a retry of the request carries the same. */
export interface EventIdSources {
  /** The request's Idempotency-Key header. */
  idempotencyKey?: string;
  /** The support system's request signature (a retried signed request has the same one). */
  signature?: string;
}

const MAX_LENGTH = messageSchemas().eventId.maxLength ?? 200;

/** `<prefix><value>`, or the value's hash when that would be longer than an event id may be. */
function derived(prefix: string, value: string): string {
  const id = `${prefix}${value}`;
  return id.length <= MAX_LENGTH ? id : `${prefix}sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/**
 * The id a journey applies a customer event under, once: the body's eventId, else a purchase's order id, else
 * the Idempotency-Key, else a fresh id (then only a redelivery of this very signal is recognised).
 */
export function customerEventId(event: CustomerEvent, sources: EventIdSources = {}): string {
  if (event.eventId !== undefined) return event.eventId;
  if (event.type === 'purchase' && event.orderId !== undefined) return derived('order:', event.orderId);
  if (sources.idempotencyKey !== undefined) return derived('idem:', sources.idempotencyKey);
  return randomUUID();
}

/** The id a complaint journey applies a support update under: the body's eventId, else the Idempotency-Key, else the signature. */
export function supportUpdateId(update: SupportUpdate, sources: EventIdSources = {}): string {
  if (update.eventId !== undefined) return update.eventId;
  if (sources.idempotencyKey !== undefined) return derived('idem:', sources.idempotencyKey);
  if (sources.signature !== undefined) return derived('signature:', sources.signature);
  return randomUUID();
}
