import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it is. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

/**
 * An onRequest hook for the marketer endpoints: `Authorization: Bearer <token>` with one of the configured API
 * tokens, else 401 (no token) or 403 (wrong token).
 */
export function requireMarketerToken(tokens: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="retention"')
        .send({ error: 'Unauthorized', message: 'send the API token as "Authorization: Bearer <token>"' });
    }
    if (!tokens.some((token) => safeEqual(token, given))) {
      return reply.code(403).send({ error: 'Forbidden', message: 'the API token is not valid' });
    }
  };
}
