import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, portOpen, waitUntil, within } from '../../src/dev/wait';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<ExitInfo>;
}

/** A process that exited but was not reaped yet (a zombie) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every port the fleet's Temporal server takes around its frontend port (membership at -300.., metrics at +767). */
const temporalLayout = (base: number) => [base, base + 1, base + 2, base + 6, base + 10, base - 300, base - 299, base - 298, base - 294, base + 767];

/** A frontend port whose whole Temporal layout is free now. */
async function freeTemporalBase(): Promise<number> {
  for (;;) {
    const base = 21_000 + Math.floor(Math.random() * 9_000);
    const taken = await Promise.all(temporalLayout(base).map(portOpen));
    if (!taken.some(Boolean)) return base;
  }
}

describe('npm run fleet (src/dev/fleet-cli.ts)', () => {
  const runs: Run[] = [];
  let env: Record<string, string>;
  let dataDir: string;
  let httpPort: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-cli-'));
    // As root PostgreSQL runs as the `postgres` user, who must reach its folder.
    await chmod(dataDir, 0o755);
    const base = await freeTemporalBase();
    const layout = new Set(temporalLayout(base));
    const outside = async (): Promise<number> => {
      for (;;) {
        const port = await freePort(32_000);
        if (!layout.has(port) && !layout.has(port + 1) && !(await portOpen(port + 1))) return port;
      }
    };
    httpPort = await outside();
    env = {
      DATA_DIR: dataDir,
      TEMPORAL_PORT: String(base),
      FLEET_POSTGRES_PORT: String(await outside()),
      HTTP_PORT: String(httpPort),
      NO_COLOR: '1',
    };
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'TEMPORAL_SERVER_PATH', 'TEMPORAL_SQL_TOOL_PATH']) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
  });

  afterAll(async () => {
    // Whatever the outcome, nothing of this test outlives it (a PostgreSQL left running keeps its folder busy).
    for (const run of runs) {
      if (run.child.pid && run.child.exitCode === null) process.kill(-run.child.pid, 'SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  /** One `npm run fleet` as a user starts it in a terminal: its own process group, up to its "ready" line. */
  async function startFleetCli(): Promise<Run> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/fleet-cli.ts'], { cwd: PROJECT_ROOT, env, detached: true });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const run = { child, output: () => output, exited };
    runs.push(run);
    const ready = await waitUntil(() => /^fleet: ready\./m.test(output) || child.exitCode !== null, 240_000, 200);
    expect(ready && child.exitCode === null ? 'ready' : output).toBe('ready');
    return run;
  }

  /** Ctrl-C in the terminal: SIGINT to the launcher's process group; everything must be gone within 10 s. */
  async function interrupt(run: Run): Promise<void> {
    const recorded = JSON.parse(readFileSync(path.join(dataDir, 'fleet', 'pids.json'), 'utf8')) as { name: string; pid: number }[];
    process.kill(-(run.child.pid as number), 'SIGINT');
    const exit = await within<ExitInfo | 'still running'>(run.exited, 10_000, 'still running');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(recorded.filter((p) => alive(p.pid)).map((p) => p.name)).toEqual([]);
    for (const port of [Number(env.TEMPORAL_PORT), Number(env.FLEET_POSTGRES_PORT), httpPort, httpPort + 1]) {
      expect(`${port} ${(await portOpen(port)) ? 'open' : 'closed'}`).toBe(`${port} closed`);
    }
  }

  it('starts PostgreSQL, the Temporal server, setup, two workers and two APIs; Ctrl-C stops them all in 10 s; a second start reuses them', async () => {
    const first = await startFleetCli();
    const recorded = JSON.parse(readFileSync(path.join(dataDir, 'fleet', 'pids.json'), 'utf8')) as { name: string; pid: number }[];
    expect(recorded.map((p) => p.name).sort()).toEqual(['api-1', 'api-2', 'temporal-server', 'worker-1', 'worker-2']);
    for (const port of [httpPort, httpPort + 1]) {
      const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      expect(`${port} ${res.status}`).toBe(`${port} 200`);
    }
    expect(first.output()).toMatch(/^fleet: PostgreSQL .*: new cluster in /m);
    expect(first.output()).toMatch(/^fleet: setup: namespace default: created/m);
    expect(first.output()).toMatch(/^fleet: setup: search attribute CustomerId \(Keyword\): registered$/m);
    expect(first.output()).toMatch(/^fleet: setup: schedule winback-sweep-daily created/m);
    await interrupt(first);
    expect(first.output()).toMatch(/^fleet: SIGINT: stopping the API instances and workers, then the Temporal server, then PostgreSQL$/m);

    const second = await startFleetCli();
    expect(second.output()).toMatch(/^fleet: PostgreSQL .*: cluster reused from /m);
    expect(second.output()).toMatch(/^fleet: store database retention: exists$/m);
    expect(second.output()).toMatch(/^fleet: setup: namespace default: exists/m);
    expect(second.output()).toMatch(/^fleet: setup: search attribute CustomerId \(Keyword\): present$/m);
    expect(second.output()).toMatch(/^fleet: setup: schedule winback-sweep-daily updated/m);

    // A worker that dies is started again, and pids.json names the new process (a later start stops leftovers by it).
    const pidsOf = () => JSON.parse(readFileSync(path.join(dataDir, 'fleet', 'pids.json'), 'utf8')) as { name: string; pid: number }[];
    const killed = pidsOf().find((p) => p.name === 'worker-1')?.pid as number;
    process.kill(killed, 'SIGKILL');
    const replaced = await waitUntil(() => {
      const now = pidsOf().find((p) => p.name === 'worker-1')?.pid;
      return now !== undefined && now !== killed && alive(now);
    }, 120_000, 250);
    expect(replaced ? 'recorded' : second.output()).toBe('recorded');
    await interrupt(second);
  }, 420_000);
});
