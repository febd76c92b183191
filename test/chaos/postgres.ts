import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { onEmergency } from '../../src/dev/supervisor';
import { freePort } from './util';
import { findPostgresBinDir } from '../../src/dev/postgres-cluster';

const run = promisify(execFile);


/**
 * A throwaway PostgreSQL cluster (as test/harness/postgres.ts starts one: initdb, trust auth, 127.0.0.1) that can be
 * crashed (`pg_ctl stop -m immediate`: no shutdown checkpoint, like a power cut) and started again on the same data.
 */
export class ChaosPostgres {
  private forgetEmergency: () => void = () => undefined;

  private constructor(
    private readonly binDir: string,
    private readonly base: string,
    readonly port: number,
    private readonly asRoot: boolean,
  ) {}

  static async start(): Promise<ChaosPostgres> {
    const binDir = await findPostgresBinDir();
    if (!binDir) throw new Error('PostgreSQL is not installed (initdb/pg_ctl not found): `apt-get install -y postgresql`');
    const asRoot = process.getuid?.() === 0;
    const base = await mkdtemp(path.join(os.tmpdir(), 'retention-chaos-pg-'));
    if (asRoot) {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
      await chown(base, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    const pg = new ChaosPostgres(binDir, base, await freePort(), asRoot);
    pg.forgetEmergency = onEmergency(() => pg.crashSync());
    await pg.exec('initdb', ['-D', pg.dataDir, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await pg.up();
    return pg;
  }

  private get dataDir(): string {
    return path.join(this.base, 'data');
  }

  private exec(tool: string, args: string[]) {
    const command = path.join(this.binDir, tool);
    return this.asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  urlFor(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(database: string): Promise<string> {
    const client = new PgClient({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await client.query(`create database "${database}"`);
    } finally {
      await client.end();
    }
    return this.urlFor(database);
  }

  async up(): Promise<void> {
    const options = `-p ${this.port} -k ${this.base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', path.join(this.base, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** Crash stop: every backend dies at once, clients see their connections drop. */
  async crash(): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  /** The same, synchronously: for the runner's last-resort cleanup (exit, interrupt). */
  private crashSync(): void {
    const pgCtl = path.join(this.binDir, 'pg_ctl');
    const args = ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'];
    execFileSync(this.asRoot ? 'runuser' : pgCtl, this.asRoot ? ['-u', 'postgres', '--', pgCtl, ...args] : args, { stdio: 'ignore', timeout: 15_000 });
  }

  async destroy(): Promise<void> {
    this.forgetEmergency();
    try {
      await this.crash();
    } catch {
      // not running
    }
    await rm(this.base, { recursive: true, force: true });
  }
}
