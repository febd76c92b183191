import type { z } from 'zod';

/** One readable line per zod issue, naming the field path: `email: Invalid email address`. */
export function zodErrorLines(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}
