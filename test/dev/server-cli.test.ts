import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, portOpen, waitUntil, within } from '../../src/dev/wait';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** Child pids of `pid` (Linux /proc): the Temporal CLI is started by the native core, not by Node's child_process. */
function childPids(pid: number): number[] {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** A process that exited but was not reaped yet (a zombie) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<ExitInfo>;
  uiPort: number;
  port: number;
}

/** `npm run server` as one node process (as test/chaos/node-process.ts does), in its own process group. */
async function startServerCli(): Promise<Started> {
  const [port, uiPort, dataDir] = await Promise.all([freePort(), freePort(), mkdtemp(path.join(os.tmpdir(), 'server-cli-'))]);
  const env: Record<string, string> = { DATA_DIR: dataDir, TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), NO_COLOR: '1' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TEMPORAL_CLI_PATH']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/server-cli.ts'], { cwd: PROJECT_ROOT, env, detached: true });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exited, port, uiPort };
}

describe('npm run server (src/dev/server-cli.ts)', () => {
  let started: Started | undefined;

  afterEach(() => {
    // Whatever the outcome, nothing of this test outlives it.
    if (started?.child.pid && started.child.exitCode === null && started.child.signalCode === null) {
      try {
        process.kill(-started.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    started = undefined;
  });

  async function startReady(): Promise<Started> {
    started = await startServerCli();
    const { child, output } = started;
    const ready = await waitUntil(() => /Temporal Web UI: /.test(output()) || child.exitCode !== null, 60_000, 100);
    expect(ready && child.exitCode === null ? 'ready' : output()).toBe('ready');
    return started;
  }

  it('prepares the server for the product as `retention setup` does, printing a line per decision', async () => {
    const { output } = await startReady();
    expect(output()).toMatch(/^namespace default: exists/m);
    for (const name of ['CustomerId', 'LifecycleStage', 'CampaignId', 'CampaignStep', 'Outcome']) {
      expect(output()).toMatch(new RegExp(`^search attribute ${name} \\(Keyword\\): present$`, 'm'));
    }
    expect(output()).toMatch(/^schedule winback-sweep-daily created: daily at 06:00 UTC/m);
  }, 120_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('stops on %s within 10 s, the Temporal CLI child included', async (signal) => {
    const { child, output, exited, port } = await startReady();
    const temporalCli = childPids(child.pid as number).filter((pid) => /\bserver start-dev\b/.test(commandLine(pid)));
    expect(temporalCli).toHaveLength(1);
    expect(await portOpen(port)).toBe(true);

    child.kill(signal);
    const exit = await within<ExitInfo | 'still running'>(exited, 10_000, 'still running');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(output()).toMatch(/stopping the Temporal dev server/);
    expect(temporalCli.filter(alive)).toEqual([]);
    expect(await portOpen(port)).toBe(false);
  }, 120_000);
});
