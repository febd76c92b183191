import type { z } from 'zod';
import { UserFacingError } from '../cli-errors';
import { zodErrorLines } from '../shared/zod-errors';

/**
 * What the trigger service layer throws for a caller's mistake. Each entry point maps them once: the HTTP API to
 * 400/404/409 with the message (and zod issues), the CLI to a one-line error naming the field.
 */
export class InvalidInputError extends UserFacingError {
  override name = 'InvalidInputError';
  constructor(
    what: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }

  static fromZod(what: string, error: z.ZodError): InvalidInputError {
    return new InvalidInputError(
      what,
      zodErrorLines(error).map((line) => {
        const at = line.indexOf(': ');
        return { path: line.slice(0, at), message: line.slice(at + 2) };
      }),
    );
  }
}

export class NotFoundError extends UserFacingError {
  override name = 'NotFoundError';
}

/** The request collides with what already exists (a journey that already ran and may not run again, ...). */
export class ConflictError extends UserFacingError {
  override name = 'ConflictError';
}

/** Parses `input` with `schema` or throws an InvalidInputError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw InvalidInputError.fromZod(what, parsed.error);
  return parsed.data;
}
