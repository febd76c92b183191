import { isGrpcServiceError } from '@temporalio/client';

/** The gRPC status codes setup tells apart (numbers from the gRPC spec: @grpc/grpc-js is not a direct dependency). */
export const GrpcStatus = { NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12 } as const;

export function grpcCode(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? err.code : undefined;
}

/** The server will not do this for us (Temporal Cloud refuses namespace and some admin calls through the API). */
export function refusedByServer(err: unknown): boolean {
  const code = grpcCode(err);
  return code === GrpcStatus.PERMISSION_DENIED || code === GrpcStatus.UNIMPLEMENTED;
}

export function errorText(err: unknown): string {
  return isGrpcServiceError(err) ? err.details || err.message : (err as Error).message;
}

/** Asks `check` every `intervalMs` until it says true; false when `timeoutMs` passed first. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
