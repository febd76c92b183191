import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './paths';
import { portOpen, sleep, waitUntil } from './wait';

export interface ProcessSpec {
  /** Short name: the log file is `<logDir>/<name>.log`, appended across restarts. */
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd: string;
  logDir: string;
  /** True once the process is ready (a log line, an open port...); asked until `readyTimeoutMs` pass. */
  ready: (process: ManagedProcess) => boolean | Promise<boolean>;
  readyTimeoutMs: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();
const emergencyStops = new Set<() => void>();

/** Registers a synchronous last-resort stop for something that is not a ManagedProcess (a daemonized PostgreSQL). */
export function onEmergency(stop: () => void): () => void {
  emergencyStops.add(stop);
  return () => emergencyStops.delete(stop);
}

/** Kills the process group of every child still running (SIGKILL): used when the runner exits or is interrupted. */
export function killAllNow(): void {
  for (const p of live) p.signalGroup('SIGKILL');
  for (const stop of emergencyStops) {
    try {
      stop();
    } catch {
      // best effort
    }
  }
  emergencyStops.clear();
}

process.once('exit', killAllNow);

/** Readiness: a line matching `pattern` was logged since the last start. */
export function logMatches(pattern: RegExp): (p: ManagedProcess) => boolean {
  return (p) => pattern.test(p.logSinceStart());
}

/** Readiness: something accepts connections on 127.0.0.1:port. */
export function portReady(port: number): () => Promise<boolean> {
  return () => portOpen(port);
}

/**
 * One supervised child process: spawned in its own process group with stdout and stderr appended to a log file,
 * killed for real (SIGKILL to the group), restarted with the same command and environment, stopped gracefully.
 */
export class ManagedProcess {
  readonly logFile: string;
  /** Epoch ms of every SIGKILL sent by the supervisor. */
  readonly kills: number[] = [];
  starts = 0;
  /** True between a start that became ready and the exit of that child. */
  ready = false;
  private child: ChildProcess | undefined;
  private exit: Promise<ExitInfo> | undefined;
  private logOffset = 0;

  constructor(readonly spec: ProcessSpec) {
    this.logFile = path.join(spec.logDir, `${spec.name}.log`);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the current child exits (at once when none runs). */
  exited(): Promise<ExitInfo> {
    return this.exit ?? Promise.resolve({ code: null, signal: null });
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.child?.pid})`);
    this.starts++;
    this.logOffset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `--- ${this.name} start #${this.starts} at ${new Date().toISOString()}: ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, { cwd: this.spec.cwd, env: this.spec.env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.ready = false;
    this.exit = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        if (this.child === child) this.ready = false;
        resolve({ code, signal });
      });
      child.once('error', () => {
        live.delete(this);
        resolve({ code: null, signal: null });
      });
    });
    live.add(this);
    // An exit ends the wait at once (true), and is told apart below.
    const ready = await waitUntil(async () => !this.running || this.spec.ready(this), this.spec.readyTimeoutMs, 200);
    if (!ready || !this.running) {
      const tail = this.logSinceStart().trim().split('\n').slice(-8).join('\n    ');
      const exited = !this.running;
      await this.kill();
      const why = exited ? 'exited before it was ready' : `did not become ready within ${this.spec.readyTimeoutMs} ms`;
      throw new Error(`${this.name} ${why} (log ${this.logFile}):\n    ${tail}`);
    }
    this.ready = true;
  }

  /** What the process logged since its last start. */
  logSinceStart(): string {
    if (!existsSync(this.logFile)) return '';
    const size = statSync(this.logFile).size;
    const length = Math.max(size - this.logOffset, 0);
    const buffer = Buffer.alloc(Math.min(length, 4 * 1024 * 1024));
    const fd = openSync(this.logFile, 'r');
    try {
      const start = this.logOffset + length - buffer.length;
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  }

  /** Sends `signal` to the child's whole process group; false when it is gone. */
  signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL to the process group, then waits (at most 10 s) until the child is reaped. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills.push(Date.now());
    this.signalGroup('SIGKILL');
    await Promise.race([this.exited(), sleep(10_000)]);
  }

  /** Kills (SIGKILL) if running, then starts again with the same command and environment. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGTERM to the main process, SIGKILL to the group after `timeoutMs`; leftovers of the group are killed too. */
  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    if (!this.running) {
      this.signalGroup('SIGKILL');
      return this.exited();
    }
    try {
      this.child?.kill('SIGTERM');
    } catch {
      // already gone
    }
    const exited = await Promise.race([this.exited(), sleep(timeoutMs).then(() => undefined)]);
    this.signalGroup('SIGKILL');
    return exited ?? this.exited();
  }
}

/** Only what a child needs from this process's environment: nothing else leaks in (no DATABASE_URL, SMTP_URL...). */
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
  return new ManagedProcess({ ...rest, command: process.execPath, args: ['--import', 'tsx', entry], cwd: projectRoot });
}
