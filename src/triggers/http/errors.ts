import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { StoreNotFoundError } from '../../store';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';

export interface ErrorBody {
  error: string;
  message: string;
  issues?: { path: string; message: string }[];
}

/**
 * One mapping from the service layer's errors to HTTP: bad input 400 with the field paths, unknown things 404,
 * conflicts 409, Fastify's own client errors (bad JSON, wrong content type, too large) with their status; only a
 * real fault is a 500, and it is logged.
 */
export function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.'),
      message: v.message ?? 'invalid',
    }));
    return reply.code(400).send({ error: 'Bad Request', message: `invalid ${error.validationContext ?? 'request'}`, issues } satisfies ErrorBody);
  }
  if (error instanceof InvalidInputError) {
    return reply.code(400).send({ error: 'Bad Request', message: error.message, issues: error.issues } satisfies ErrorBody);
  }
  if (error instanceof NotFoundError || error instanceof StoreNotFoundError) {
    return reply.code(404).send({ error: 'Not Found', message: error.message } satisfies ErrorBody);
  }
  if (error instanceof ConflictError) {
    return reply.code(409).send({ error: 'Conflict', message: error.message } satisfies ErrorBody);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send({ error: error.code ?? 'Bad Request', message: error.message } satisfies ErrorBody);
  }
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ error: 'Internal Server Error', message: 'the request failed; see the server log' } satisfies ErrorBody);
}
