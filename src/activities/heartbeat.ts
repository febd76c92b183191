import { Context } from '@temporalio/activity';

/** Heartbeats the running activity; also callable outside one (unit use), where nobody is watching. */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not in an activity context
  }
}
