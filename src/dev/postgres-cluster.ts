import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { UserFacingError } from '../cli-errors';

const run = promisify(execFile);

/** The directory holding initdb and pg_ctl: the newest Debian install, else `pg_config --bindir`, else PATH. */
export async function findPostgresBinDir(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const version = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')) && existsSync(path.join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a))[0];
    if (version) return path.join(root, version, 'bin');
  }
  try {
    const dir = (await run('pg_config', ['--bindir'])).stdout.trim();
    if (existsSync(path.join(dir, 'pg_ctl'))) return dir;
  } catch {
    // no pg_config
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: string }).stderr?.trim();
  return stderr ? stderr.split('\n').slice(-3).join(' | ') : err instanceof Error ? err.message : String(err);
}

/**
 * A PostgreSQL cluster of the project's own in a folder: initdb once (trust auth for 127.0.0.1, superuser
 * `postgres`), started and stopped with pg_ctl on a chosen port. initdb and postgres refuse to run as root, so as
 * root they run as the `postgres` OS user, which then owns the folder.
 */
export class PostgresCluster {
  private constructor(
    private readonly binDir: string,
    /** Holds `data/` (the cluster), the server log and the Unix socket. */
    readonly dir: string,
    readonly port: number,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async open(dir: string, port: number): Promise<PostgresCluster> {
    const binDir = await findPostgresBinDir();
    if (!binDir) {
      throw new UserFacingError(
        'PostgreSQL is not installed (no initdb/pg_ctl found): install it (Debian: apt-get install -y postgresql; `npm run provision -- --tests` does it as root)',
      );
    }
    let owner: { uid: number; gid: number } | undefined;
    if (process.getuid?.() === 0) {
      try {
        const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
        owner = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
      } catch {
        throw new UserFacingError(`found PostgreSQL in ${binDir}, but no 'postgres' OS user to run it as (this process runs as root)`);
      }
    }
    return new PostgresCluster(binDir, path.resolve(dir), port, owner);
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  get binaries(): string {
    return this.binDir;
  }

  urlFor(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private exec(tool: string, args: string[]) {
    const command = path.join(this.binDir, tool);
    return this.owner ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  }

  /** True when the folder already holds a cluster (a second start reuses it). */
  get initialized(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** initdb unless the folder already holds a cluster; true when it created one. */
  async init(): Promise<boolean> {
    if (this.initialized) return false;
    await mkdir(this.dir, { recursive: true });
    if (this.owner) await chown(this.dir, this.owner.uid, this.owner.gid);
    try {
      await this.exec('initdb', ['-D', this.dataDir, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    } catch (err) {
      throw new UserFacingError(`initdb in ${this.dataDir} failed: ${stderrOf(err)}`);
    }
    return true;
  }

  async running(): Promise<boolean> {
    try {
      await this.exec('pg_ctl', ['-D', this.dataDir, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts the server (waits until it accepts connections); false when it was already running. */
  async start(options: { fsync?: boolean; maxConnections?: number } = {}): Promise<boolean> {
    if (await this.running()) return false;
    const settings = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      `-c max_connections=${options.maxConnections ?? 200}`,
      ...(options.fsync === false ? ['-c fsync=off'] : []),
    ].join(' ');
    try {
      await this.exec('pg_ctl', ['-D', this.dataDir, '-o', settings, '-l', this.logFile, '-w', '-t', '60', 'start']);
    } catch (err) {
      throw new UserFacingError(`PostgreSQL did not start on port ${this.port} (is the port taken? log: ${this.logFile}): ${stderrOf(err)}`);
    }
    return true;
  }

  /** `fast`: a clean shutdown (clients disconnected); `immediate`: a crash, as after a power cut. */
  async stop(mode: 'fast' | 'immediate' = 'fast', timeoutSeconds = 10): Promise<void> {
    if (!(await this.running())) return;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', String(timeoutSeconds), 'stop']);
  }

  /** The same as stop('immediate'), synchronously: for a last-resort cleanup when this process exits or is interrupted. */
  stopNowSync(): void {
    const pgCtl = path.join(this.binDir, 'pg_ctl');
    const args = ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'];
    try {
      execFileSync(this.owner ? 'runuser' : pgCtl, this.owner ? ['-u', 'postgres', '--', pgCtl, ...args] : args, { stdio: 'ignore', timeout: 15_000 });
    } catch {
      // not running
    }
  }

  /** Creates `database` unless it exists; true when it was created. */
  async ensureDatabase(database: string): Promise<boolean> {
    const client = new PgClient({ connectionString: this.urlFor('postgres') });
    await client.connect();
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (found.rowCount) return false;
      await client.query(`create database "${database.replace(/"/g, '""')}"`);
      return true;
    } finally {
      await client.end();
    }
  }
}
