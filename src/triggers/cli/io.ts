import type { Client } from '@temporalio/client';
import { UserFacingError } from '../../cli-errors';
import { loadConfig, type AppConfig, type Env } from '../../config';
import { connectClient } from '../../shared/temporal-connection';
import type { TriggerContext } from '../context';
import { openTriggerContext } from '../open-context';

export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Where a CLI run reads and writes: the process by default, buffers and a test server's settings in tests. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** The environment loadConfig() reads. */
  env: Env;
  /** Stops a long command (bulk start) the way Ctrl-C does; when absent, SIGINT is listened for. */
  interrupt?: AbortSignal;
}

/** One CLI run: commands report a non-error exit status (an interrupted bulk start) through `exitCode`. */
export interface CliRun {
  io: CliIo;
  exitCode: number;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function printLine(out: CliOutput, line = ''): void {
  out.write(`${line}\n`);
}

/** Runs `fn` with a Temporal client from the configuration; the connection is closed afterwards. */
export function withClient<T>(io: CliIo, fn: (client: Client, config: AppConfig) => Promise<T>): Promise<T> {
  return withConfiguredClient(loadConfig(io.env), fn);
}

async function withConfiguredClient<T>(config: AppConfig, fn: (client: Client, config: AppConfig) => Promise<T>): Promise<T> {
  const client = await connectClient(config.temporal);
  try {
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}

/** Runs `fn` with what the trigger service layer needs: client, campaign catalog, task queue and the migrated store. */
export function withTriggerContext<T>(io: CliIo, fn: (ctx: TriggerContext, config: AppConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  return withConfiguredClient(config, async (client) => {
    const opened = await openTriggerContext(config, client).catch((err: unknown) => {
      // Catalog problems are already user-facing; anything else here is the database.
      throw err instanceof UserFacingError ? err : new UserFacingError(`DATABASE_URL: ${(err as Error).message}`);
    });
    try {
      return await fn(opened.ctx, config);
    } finally {
      await opened.close();
    }
  });
}
