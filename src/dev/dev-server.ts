import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { UserFacingError } from '../cli-errors';
import type { AppConfig } from '../config';
import { customSearchAttributes } from '../shared/search-attributes';
import { devServerArgs } from './server-settings';
import { describeCli, resolveTemporalCli, type ResolvedCli } from './temporal-cli';

export interface DevServer {
  cli: ResolvedCli;
  address: string;
  uiUrl?: string;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  /** Persist history in this SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  namespace: string;
  cliPath?: string;
  /** Serve the server's Prometheus metrics on this port (`/metrics`). */
  metricsPort?: number;
  log?: (line: string) => void;
}

/**
 * Starts `temporal server start-dev` (through the SDK's ephemeral-server launcher, which waits until it accepts
 * connections) with the project's search attributes registered. The server lives as long as this process.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  const cli = await resolveTemporalCli({ cliPath: options.cliPath, log });
  log(describeCli(cli));
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });
  const ui = options.uiPort !== undefined;
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli.path ? { type: 'existing-path', path: cli.path } : { type: 'cached-download' },
        port: options.port,
        ui,
        uiPort: options.uiPort,
        dbFilename: options.dbFile,
        namespace: options.namespace,
        searchAttributes: customSearchAttributes,
        log: { format: 'json', level: 'error' },
        extraArgs: [
          ...devServerArgs({ dbFile: options.dbFile }),
          ...(options.metricsPort === undefined ? [] : ['--metrics-port', String(options.metricsPort)]),
        ],
      },
    });
  } catch (err) {
    const hint =
      cli.source === 'sdk download'
        ? 'No local Temporal CLI was found and the SDK could not download one: install Go (the project builds the CLI) or set TEMPORAL_CLI_PATH.'
        : `Is port ${options.port ?? '(random)'} already in use by another server? Stop it or set TEMPORAL_PORT.`;
    throw new UserFacingError(`could not start the Temporal dev server (${(err as Error).message}). ${hint}`);
  }
  return {
    cli,
    address: env.address,
    uiUrl: ui ? `http://localhost:${options.uiPort}` : undefined,
    env,
    stop: () => env.teardown(),
  };
}

/** The embedded dev server described by the configuration (persistent SQLite file, Web UI on). */
export function startConfiguredDevServer(config: AppConfig, log?: (line: string) => void): Promise<DevServer> {
  const { devServer, namespace } = config.temporal;
  return startDevServer({
    port: devServer.port,
    uiPort: devServer.uiPort,
    dbFile: devServer.dbFile,
    namespace,
    cliPath: devServer.cliPath,
    log,
  });
}
