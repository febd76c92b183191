import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';

const run = promisify(execFile);

/** Debian's Chromium, which the browser tests drive through playwright-core (no browser download by npm). */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** `CHROMIUM_PATH` when set, else Debian's Chromium when installed. */
export function installedChromium(): string | undefined {
  const override = process.env.CHROMIUM_PATH;
  if (override) return override;
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}

/**
 * The Chromium executable for browser tests. When none is installed and this process may use apt-get (root),
 * installs Debian's `chromium`, waiting for the dpkg lock if another install is running; otherwise says what to do.
 */
export async function ensureChromium(log: (line: string) => void = () => undefined): Promise<string> {
  const existing = installedChromium();
  if (existing) {
    if (!existsSync(existing)) throw new UserFacingError(`CHROMIUM_PATH=${existing} does not exist`);
    return existing;
  }
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new UserFacingError('Chromium is not installed: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH=/path/to/chrome');
  }
  log('installing Chromium from Debian packages (apt-get install chromium)');
  const aptOptions = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 };
  const waitForLock = ['-o', 'DPkg::Lock::Timeout=600'];
  try {
    await run('apt-get', [...waitForLock, 'update', '-qq'], aptOptions);
    await run('apt-get', [...waitForLock, 'install', '-y', '-qq', 'chromium'], aptOptions);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-2).join(' | ') ?? String(err);
    throw new UserFacingError(`apt-get install chromium failed (${stderr}); install Chromium or set CHROMIUM_PATH.`);
  }
  if (!existsSync(DEBIAN_CHROMIUM)) throw new UserFacingError(`apt-get installed chromium but ${DEBIAN_CHROMIUM} was not found`);
  return DEBIAN_CHROMIUM;
}

/** One line for `npm run provision`. */
export async function describeChromium(log: (line: string) => void): Promise<string> {
  const before = installedChromium();
  const path = await ensureChromium(log);
  return `Chromium for browser tests: ${path}${before ? '' : ' (installed now)'}`;
}
