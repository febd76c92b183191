import { execFile } from 'node:child_process';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';
import { findOnPath, isExecutable } from './executables';
import { toolsDir } from './paths';

const run = promisify(execFile);

/** The server inside Temporal CLI v1.5.1 (what the dev server runs), so its modules are mostly in the Go cache already. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULES = [`go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`];

/** Temporal's release archives name them so; `go install` names them after their folders (server, sql). */
const SERVER_NAME = 'temporal-server';
const SQL_TOOL_NAME = 'temporal-sql-tool';
const projectBinDir = path.join(toolsDir, 'server-bin');

export type ServerBinarySource = 'TEMPORAL_SERVER_PATH' | 'PATH' | 'project build' | 'go install';

export interface ServerBinaries {
  source: ServerBinarySource;
  /** The Temporal server (`temporal-server --root R --config C --env E start`). */
  server: string;
  /** temporal-sql-tool: creates the databases and applies the schema versions embedded in it. */
  sqlTool: string;
}

async function goInstall(log: (line: string) => void): Promise<ServerBinaries> {
  log(`building the Temporal server and SQL tool: go install ${MODULES.join(' ')} (about 3 minutes the first time)`);
  try {
    await run('go', ['install', ...MODULES], {
      env: { ...process.env, GOBIN: projectBinDir, GOFLAGS: '-trimpath' },
      maxBuffer: 64 * 1024 * 1024,
    });
    await rename(path.join(projectBinDir, 'server'), path.join(projectBinDir, SERVER_NAME));
    await rename(path.join(projectBinDir, 'sql'), path.join(projectBinDir, SQL_TOOL_NAME));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ') || String(err);
    throw new UserFacingError(
      `go install of the Temporal server failed (${stderr}). Install temporal-server and temporal-sql-tool ${TEMPORAL_SERVER_VERSION} yourself and set TEMPORAL_SERVER_PATH (the SQL tool beside it).`,
    );
  }
  return { source: 'go install', server: path.join(projectBinDir, SERVER_NAME), sqlTool: path.join(projectBinDir, SQL_TOOL_NAME) };
}

/**
 * Finds the Temporal server and its SQL tool in the same order as the CLI: TEMPORAL_SERVER_PATH (the SQL tool as
 * `temporal-sql-tool` beside it, or TEMPORAL_SQL_TOOL_PATH), both on PATH, the project's earlier build, a fresh
 * `go install` when Go is present; otherwise a clear error.
 */
export async function resolveTemporalServer(
  options: { serverPath?: string; sqlToolPath?: string; allowBuild?: boolean; log?: (line: string) => void } = {},
): Promise<ServerBinaries> {
  const log = options.log ?? (() => undefined);
  if (options.serverPath) {
    const sqlTool = options.sqlToolPath ?? path.join(path.dirname(options.serverPath), SQL_TOOL_NAME);
    for (const [name, file] of [['TEMPORAL_SERVER_PATH', options.serverPath], ['TEMPORAL_SQL_TOOL_PATH', sqlTool]] as const) {
      if (!(await isExecutable(file))) throw new UserFacingError(`${name}: ${file} is not an executable file.`);
    }
    return { source: 'TEMPORAL_SERVER_PATH', server: options.serverPath, sqlTool };
  }
  const [server, sqlTool] = await Promise.all([findOnPath(SERVER_NAME), findOnPath(SQL_TOOL_NAME)]);
  if (server && sqlTool) return { source: 'PATH', server, sqlTool };
  const built = { server: path.join(projectBinDir, SERVER_NAME), sqlTool: path.join(projectBinDir, SQL_TOOL_NAME) };
  if ((await isExecutable(built.server)) && (await isExecutable(built.sqlTool))) return { source: 'project build', ...built };
  if (options.allowBuild !== false && (await findOnPath('go'))) return goInstall(log);
  throw new UserFacingError(
    `no Temporal server found: install Go (the project builds ${SERVER_NAME} ${TEMPORAL_SERVER_VERSION} with \`npm run provision -- --fleet\`), ` +
      `put ${SERVER_NAME} and ${SQL_TOOL_NAME} on PATH, or set TEMPORAL_SERVER_PATH.`,
  );
}

export function describeServerBinaries(b: ServerBinaries): string {
  return `Temporal server: ${b.server} (from ${b.source}), SQL tool ${b.sqlTool}`;
}
