import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';
import { customSearchAttributes } from '../shared/search-attributes';
import { typeName } from '../triggers/setup/search-attributes';
import { findOnPath, isExecutable } from './executables';
import { toolsDir } from './paths';

const run = promisify(execFile);

/** Newest CLI tag whose go.mod has no `replace` directive, so `go install pkg@version` accepts it. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const projectCliPath = path.join(toolsDir, 'bin', 'temporal');

export type CliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'project build' | 'go install' | 'sdk download';

export type ResolvedCli =
  | { source: Exclude<CliSource, 'sdk download'>; path: string }
  | { source: 'sdk download'; path?: undefined };

async function goInstall(log: (line: string) => void): Promise<string> {
  log(`building the Temporal CLI: go install ${TEMPORAL_CLI_MODULE} (a few minutes the first time)`);
  try {
    await run('go', ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: path.dirname(projectCliPath), GOFLAGS: '-trimpath' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ') ?? String(err);
    throw new UserFacingError(
      `go install of the Temporal CLI failed (${stderr}). Install the CLI yourself and set TEMPORAL_CLI_PATH to it.`,
    );
  }
  if (!(await isExecutable(projectCliPath))) {
    throw new UserFacingError(`go install reported success but ${projectCliPath} is missing; set TEMPORAL_CLI_PATH.`);
  }
  return projectCliPath;
}

/**
 * Finds the Temporal CLI in the documented order: TEMPORAL_CLI_PATH, `temporal` on PATH, the project's earlier
 * build, a fresh `go install` when Go is present, and finally the SDK's own cached download (needs internet).
 */
export async function resolveTemporalCli(
  options: { cliPath?: string; allowBuild?: boolean; log?: (line: string) => void } = {},
): Promise<ResolvedCli> {
  const log = options.log ?? (() => undefined);
  if (options.cliPath) {
    if (!(await isExecutable(options.cliPath))) {
      throw new UserFacingError(`TEMPORAL_CLI_PATH points to ${options.cliPath}, which is not an executable file.`);
    }
    return { source: 'TEMPORAL_CLI_PATH', path: options.cliPath };
  }
  const onPath = await findOnPath('temporal');
  if (onPath) return { source: 'PATH', path: onPath };
  if (await isExecutable(projectCliPath)) return { source: 'project build', path: projectCliPath };
  if (options.allowBuild !== false && (await findOnPath('go'))) {
    return { source: 'go install', path: await goInstall(log) };
  }
  return { source: 'sdk download' };
}

export function describeCli(cli: ResolvedCli): string {
  return cli.source === 'sdk download'
    ? 'Temporal CLI: SDK cached download (no local binary found; needs internet access)'
    : `Temporal CLI: ${cli.path} (from ${cli.source})`;
}

/** `--search-attribute Name=Type` for each attribute the product needs, for `temporal server start-dev`. */
export function searchAttributeArgs(): string[] {
  return customSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${typeName(key.type)}`]);
}
