import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';

const run = promisify(execFile);

/** A Debian-style PostgreSQL install (initdb under /usr/lib/postgresql/<version>/bin), newest first. */
export function installedPostgres(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((v) => existsSync(`${root}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `${root}/${v}/bin`)[0];
}

/**
 * The store tests run against a real PostgreSQL as well as SQLite. When no server binaries are installed and
 * this process may use apt-get (root), installs Debian's `postgresql`; otherwise says what to do.
 */
export async function ensurePostgres(log: (line: string) => void): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return 'PostgreSQL for tests: TEST_DATABASE_URL';
  const existing = installedPostgres();
  if (existing) return `PostgreSQL for tests: ${existing}`;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new UserFacingError(
      'PostgreSQL is not installed: install it (Debian: apt-get install -y postgresql) or set TEST_DATABASE_URL=postgres://...',
    );
  }
  log('installing PostgreSQL from Debian packages (apt-get install postgresql)');
  try {
    await run('apt-get', ['update', '-qq'], { maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '-qq', 'postgresql'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-2).join(' | ') ?? String(err);
    throw new UserFacingError(`apt-get install postgresql failed (${stderr}); install PostgreSQL or set TEST_DATABASE_URL.`);
  }
  const installed = installedPostgres();
  if (!installed) throw new UserFacingError('apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found');
  return `PostgreSQL for tests: ${installed} (installed now)`;
}
