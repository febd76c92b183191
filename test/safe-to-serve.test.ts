import { runNode } from './harness/processes';

/** Runs an entry point as `npm run api` / `npm run worker` would, with only the given environment, until it exits. */
function runEntry(entry: string, env: Record<string, string>) {
  return runNode([entry], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, 90_000);
}

// Nothing listens at this address: a process that got past its checks would fail to connect, not refuse.
const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:1' };

jest.setTimeout(120_000);

describe('a deploy that forgot its secrets (real processes)', () => {
  it('the API refuses to start and prints each variable to set, one line each', async () => {
    const { code, output } = await runEntry('src/triggers/http/main.ts', { ...NO_TEMPORAL, API_TOKENS: 'dashboard-token-0123456789' });
    expect(code).toBe(1);
    expect(output).toContain('Refusing to start the API with development settings');
    const lines = output.split('\n').filter((line) => /^ {2}[A-Z_]+: /.test(line));
    expect(lines.map((line) => line.trim().split(':')[0])).toEqual(['SUPPORT_WEBHOOK_SECRET', 'LINK_SIGNING_SECRET', 'PUBLIC_BASE_URL']);
    expect(output).not.toContain('cannot reach Temporal');
  });

  it('the worker refuses an http PUBLIC_BASE_URL and the built-in link secret', async () => {
    const { code, output } = await runEntry('src/workers/main.ts', { ...NO_TEMPORAL, PUBLIC_BASE_URL: 'http://retention.example.com' });
    expect(code).toBe(1);
    expect(output).toContain('Refusing to start the worker with development settings');
    const lines = output.split('\n').filter((line) => /^ {2}[A-Z_]+: /.test(line));
    expect(lines.map((line) => line.trim().split(':')[0])).toEqual(['LINK_SIGNING_SECRET', 'PUBLIC_BASE_URL']);
  });

  it('with RETENTION_ENV=development the same API gets past the check (and fails only on the missing Temporal)', async () => {
    const { code, output } = await runEntry('src/triggers/http/main.ts', { ...NO_TEMPORAL, RETENTION_ENV: 'development' });
    expect(code).toBe(1);
    expect(output).not.toContain('Refusing to start');
    expect(output).toContain('cannot reach Temporal at 127.0.0.1:1');
  });
});
