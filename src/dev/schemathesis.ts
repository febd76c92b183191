import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';
import { toolsDir } from './paths';

const run = promisify(execFile);

/** The contract fuzzer the contract test runs against /openapi.json (issue 12), pinned so CI runs are comparable. */
export const SCHEMATHESIS_VERSION = '4.32.5';
const venvDir = path.join(toolsDir, 'schemathesis');
const projectSt = path.join(venvDir, 'bin', 'st');

async function versionOf(st: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(st, ['--version']);
    return /version (\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The schemathesis `st` command: `SCHEMATHESIS_PATH` when set, else the project's own virtual environment in
 * `.temporal/schemathesis` (ignored), created with the machine's python3 and pip from PyPI when missing or of
 * another version.
 */
export async function ensureSchemathesis(log: (line: string) => void = () => undefined): Promise<string> {
  const override = process.env.SCHEMATHESIS_PATH;
  if (override) {
    if (!(await versionOf(override))) throw new UserFacingError(`SCHEMATHESIS_PATH=${override} does not run (expected schemathesis's st)`);
    return override;
  }
  if (existsSync(projectSt) && (await versionOf(projectSt)) === SCHEMATHESIS_VERSION) return projectSt;
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${venvDir}`);
  try {
    await run('python3', ['-m', 'venv', '--clear', venvDir]);
    await run(path.join(venvDir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-2).join(' | ') ?? String(err);
    throw new UserFacingError(`could not install schemathesis (${stderr}); needs python3 with venv and pip, or set SCHEMATHESIS_PATH`);
  }
  if ((await versionOf(projectSt)) !== SCHEMATHESIS_VERSION) throw new UserFacingError(`pip installed schemathesis but ${projectSt} does not run`);
  return projectSt;
}

/** One line for `npm run provision`. */
export async function describeSchemathesis(log: (line: string) => void): Promise<string> {
  const st = await ensureSchemathesis(log);
  return `schemathesis for the contract test: ${st} (${await versionOf(st)})`;
}
