import path from 'node:path';
import { ManagedProcess, type ProcessSpec } from './processes';

/** The repository root (test/chaos/ is two levels down). */
export const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** Only what a child needs from the runner's environment: nothing else leaks in (no DATABASE_URL, SMTP_URL...). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { LANG: 'C.UTF-8', NO_COLOR: '1' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TZ']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

/**
 * A TypeScript entry point run as ONE node process (`node --import tsx file.ts`), not through the `tsx` CLI: the CLI
 * is a parent that relays signals, and a SIGKILL to it would leave the real program running.
 */
export function nodeTsProcess(spec: Omit<ProcessSpec, 'command' | 'args' | 'cwd'> & { entry: string }): ManagedProcess {
  const { entry, ...rest } = spec;
  return new ManagedProcess({ ...rest, command: process.execPath, args: ['--import', 'tsx', entry], cwd: PROJECT_ROOT });
}
