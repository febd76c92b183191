import { isGrpcServiceError, ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/**
 * gRPC statuses that carry no answer from Temporal: unreachable (UNAVAILABLE, after the client's own retries), not in
 * time (DEADLINE_EXCEEDED, CANCELLED), overloaded (RESOURCE_EXHAUSTED), or a broken call (UNKNOWN, ABORTED, INTERNAL).
 */
const NO_ANSWER = new Set([1, 2, 4, 8, 10, 13, 14]);

/**
 * True when a call to Temporal failed without an answer, so whether it took effect is unknown and it may be made
 * again later (every signal this project sends is applied once, by its event id or by the journey's own state).
 * A definite answer (no such workflow, an update refused) is not this.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const cause = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(cause) && NO_ANSWER.has(cause.code);
}
