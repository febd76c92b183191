import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findPostgresBinDir } from '../../src/dev/postgres-cluster';

const run = promisify(execFile);

export interface TestPostgres {
  /** Admin URL (database `postgres`): create one database per test file from it. */
  url: string;
  /** Where it came from, for the harness's start-up line. */
  source: string;
  stop(): Promise<void>;
}

export const POSTGRES_MISSING =
  'PostgreSQL is not installed, and the store tests run against a real PostgreSQL server. Install it ' +
  '(Debian/Ubuntu: `apt-get update && apt-get install -y postgresql`; it needs initdb and pg_ctl, found under ' +
  '/usr/lib/postgresql/<version>/bin or by `pg_config --bindir`), or set TEST_DATABASE_URL=postgres://user:pass@host:port/postgres ' +
  'to use an existing server (the user must be allowed to CREATE DATABASE).';


function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A throwaway PostgreSQL cluster for one jest run: initdb into a fresh temporary directory (trust auth, user
 * `postgres`), started on a free port on 127.0.0.1. Uses TEST_DATABASE_URL instead when it is set.
 * initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return { url: external, source: 'TEST_DATABASE_URL', stop: async () => undefined };

  const binDir = await findPostgresBinDir();
  if (!binDir) throw new Error(POSTGRES_MISSING);

  const isRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (isRoot) {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
      owner = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      throw new Error(`${POSTGRES_MISSING}\n(found ${binDir}, but no 'postgres' OS user to run it as: this process runs as root)`);
    }
  }
  const asOwner = (command: string, args: string[]) =>
    isRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);

  const base = await mkdtemp(path.join(os.tmpdir(), 'retention-pg-'));
  if (owner) await chown(base, owner.uid, owner.gid);
  const dataDir = path.join(base, 'data');
  const port = await freePort();
  const pgCtl = path.join(binDir, 'pg_ctl');
  try {
    await asOwner(path.join(binDir, 'initdb'), ['-D', dataDir, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    // -l: the server logs to a file, so it does not hold our pipes open after pg_ctl returns.
    const options = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await asOwner(pgCtl, ['-D', dataDir, '-o', options, '-l', path.join(base, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`could not start PostgreSQL from ${binDir}: ${detail}`, { cause: error });
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: binDir,
    async stop() {
      try {
        await asOwner(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}
