import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { devServerArgs } from '../../src/dev/server-settings';
import { resolveTemporalCli, searchAttributeArgs } from '../../src/dev/temporal-cli';
import { projectRoot } from '../../src/dev/paths';
import { baseEnv, ManagedProcess } from '../../src/dev/supervisor';
import { freePort, portOpen } from './util';



/**
 * `temporal server start-dev` on 127.0.0.1 with a SQLite file, started by this suite itself (not through the SDK's
 * launcher) so that it can be SIGKILLed and started again on the same file and port.
 */
export class TemporalServer {
  private connection: Connection | undefined;
  private cachedClient: Client | undefined;

  constructor(
    readonly process: ManagedProcess,
    readonly port: number,
    readonly dbFile: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A client of the runner's own (it reconnects by itself after a restart of the server). */
  async client(): Promise<Client> {
    if (!this.cachedClient) {
      this.connection = await Connection.connect({ address: this.address, connectTimeout: '5s' });
      this.cachedClient = new Client({ connection: this.connection, namespace: 'default' });
    }
    return this.cachedClient;
  }

  /** Closes the runner's client (before the server is stopped by whoever owns it). */
  async closeClient(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
    this.cachedClient = undefined;
  }

  async stop(): Promise<void> {
    await this.closeClient();
    await this.process.stop(5000);
  }
}

export async function answersGrpc(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporal(dir: string, logDir: string, name = 'temporal', extraArgs: string[] = []): Promise<TemporalServer> {
  const cli = await resolveTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, allowBuild: false });
  if (!cli.path) throw new Error('no Temporal CLI binary found: run `npm run provision` (or set TEMPORAL_CLI_PATH)');
  const port = await freePort();
  const dbFile = path.join(dir, `${name}.sqlite`);
  const address = `127.0.0.1:${port}`;
  const server = new ManagedProcess({
    name,
    command: cli.path,
    args: [
      'server', 'start-dev',
      '--db-filename', dbFile,
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--headless',
      '--log-level', 'error',
      ...searchAttributeArgs(),
      ...devServerArgs({ dbFile }),
      ...extraArgs,
    ],
    env: baseEnv(),
    cwd: projectRoot,
    logDir,
    ready: async () => (await portOpen(port)) && answersGrpc(address),
    readyTimeoutMs: 60_000,
  });
  await server.start();
  return new TemporalServer(server, port, dbFile);
}
