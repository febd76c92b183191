import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { UserFacingError } from '../cli-errors';
import type { AppConfig } from '../config';

type TemporalConfig = AppConfig['temporal'];

function connectionOptions(t: TemporalConfig) {
  return { address: t.address, tls: t.tls || undefined, apiKey: t.apiKey };
}

function unreachable(t: TemporalConfig, err: unknown): UserFacingError {
  const hint = t.embedded
    ? 'start the embedded server with `npm run server` (or `npm run demo`)'
    : 'check TEMPORAL_ADDRESS, TEMPORAL_TLS and TEMPORAL_API_KEY';
  return new UserFacingError(`cannot reach Temporal at ${t.address} (${(err as Error).message}); ${hint}.`);
}

export async function connectClient(t: TemporalConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(t), connectTimeout: '5s' });
    return new Client({ connection, namespace: t.namespace });
  } catch (err) {
    throw unreachable(t, err);
  }
}

export async function connectWorker(t: TemporalConfig): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(connectionOptions(t));
  } catch (err) {
    throw unreachable(t, err);
  }
}
