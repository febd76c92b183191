import type { ConnectionLike } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { UserFacingError } from '../../cli-errors';
import { errorText, grpcCode, GrpcStatus, pollUntil, refusedByServer } from './grpc';

const DAY_MS = 86_400_000;

export interface EnsuredNamespace {
  namespace: string;
  action: 'exists' | 'created';
  /** How long closed workflow histories are kept (unknown when the server does not say). */
  retentionDays?: number;
}

type Services = Pick<ConnectionLike, 'workflowService'>;

async function describe(connection: Services, namespace: string) {
  try {
    return await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) === GrpcStatus.NOT_FOUND) return undefined;
    if (refusedByServer(err)) {
      throw new UserFacingError(
        `cannot look up namespace ${namespace} (${errorText(err)}); check TEMPORAL_NAMESPACE (on Temporal Cloud the full ` +
          `name, <name>.<account>) and that TEMPORAL_API_KEY may use it`,
      );
    }
    throw new UserFacingError(`cannot look up namespace ${namespace}: ${errorText(err)}`);
  }
}

/**
 * DescribeNamespace can find a new namespace before the frontends serve it (they learn of it through a cache that
 * refreshes every few seconds), so a namespace-scoped call is what proves it is ready.
 */
async function serves(connection: Services, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
    return true;
  } catch (err) {
    if (grpcCode(err) === GrpcStatus.NOT_FOUND) return false;
    throw err;
  }
}

/** Registers `namespace` unless it exists, then waits (at most `waitMs`) until the server serves it. */
export async function ensureNamespace(
  connection: Services,
  namespace: string,
  options: { retentionDays: number; waitMs: number },
): Promise<EnsuredNamespace> {
  const existing = await describe(connection, namespace);
  if (existing) {
    const ttl = existing.config?.workflowExecutionRetentionTtl;
    return { namespace, action: 'exists', retentionDays: ttl ? Math.round(tsToMs(ttl) / DAY_MS) : undefined };
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(options.retentionDays * DAY_MS),
      description: 'Retention Orchestrator',
    });
  } catch (err) {
    if (refusedByServer(err)) {
      throw new UserFacingError(
        `namespace ${namespace} does not exist and the server refuses to create it (${errorText(err)}); on Temporal ` +
          'Cloud namespaces are created in the Cloud console (or with tcld): create it there, then run retention setup again',
      );
    }
    // Another `retention setup` may have registered it a moment ago: that is the state wanted.
    if (grpcCode(err) !== GrpcStatus.ALREADY_EXISTS) throw new UserFacingError(`cannot create namespace ${namespace}: ${errorText(err)}`);
  }
  if (!(await pollUntil(() => serves(connection, namespace), options.waitMs))) {
    throw new UserFacingError(
      `namespace ${namespace} was created but is not served after ${Math.round(options.waitMs / 1000)} s; run retention setup again in a minute`,
    );
  }
  return { namespace, action: 'created', retentionDays: options.retentionDays };
}
