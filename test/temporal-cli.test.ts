import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeCli, resolveTemporalCli } from '../src/dev/temporal-cli';

async function fakeExecutable(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, '#!/bin/sh\necho fake\n');
  await chmod(file, 0o755);
  return file;
}

describe('resolveTemporalCli', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('prefers TEMPORAL_CLI_PATH', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cli-'));
    const exe = await fakeExecutable(dir, 'my-temporal');
    await expect(resolveTemporalCli({ cliPath: exe })).resolves.toEqual({ source: 'TEMPORAL_CLI_PATH', path: exe });
  });

  it('refuses a TEMPORAL_CLI_PATH that is not executable, naming it', async () => {
    await expect(resolveTemporalCli({ cliPath: '/nonexistent/temporal' })).rejects.toThrow(
      'TEMPORAL_CLI_PATH points to /nonexistent/temporal, which is not an executable file.',
    );
  });

  it('uses a temporal found on PATH before the project build', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cli-'));
    const exe = await fakeExecutable(dir, 'temporal');
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    const resolved = await resolveTemporalCli({ allowBuild: false });
    expect(resolved).toEqual({ source: 'PATH', path: exe });
    expect(describeCli(resolved)).toBe(`Temporal CLI: ${exe} (from PATH)`);
  });
});
