import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createStore, type Store } from '../../src/store';
import { HARNESS_ENV } from '../harness/env';

export interface OpenedStore {
  store: Store;
  url: string;
  cleanup(): Promise<void>;
}

async function openSqlite(): Promise<OpenedStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-test-'));
  const url = `sqlite:${path.join(dir, 'nested', 'store.sqlite')}`;
  const store = await createStore(url);
  return {
    store,
    url,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The run's PostgreSQL server (started by the jest global setup); a missing one fails the test, loudly. */
export function postgresAdminUrl(): string {
  const error = process.env[HARNESS_ENV.postgresError];
  if (error) throw new Error(error);
  const url = process.env[HARNESS_ENV.postgresUrl];
  if (!url) throw new Error(`${HARNESS_ENV.postgresUrl} is not set: run the tests through jest so that test/harness/global-setup.ts runs`);
  return url;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A private database per test file, so files run in parallel against one server without interfering. */
async function openPostgres(): Promise<OpenedStore> {
  const name = `store_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  const store = await createStore(url.toString());
  return {
    store,
    url: url.toString(),
    async cleanup() {
      await store.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export const backends: [string, () => Promise<OpenedStore>][] = [
  ['sqlite', openSqlite],
  ['postgres', openPostgres],
];

/** Registers beforeAll/afterAll for a migrated store on one backend; read `.store` inside tests. */
export function storeFixture(open: () => Promise<OpenedStore>) {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await open();
    await opened.store.migrate();
  });
  afterAll(async () => {
    await opened?.cleanup();
  });
  return {
    get store(): Store {
      if (!opened) throw new Error('store not opened (beforeAll failed)');
      return opened.store;
    },
    get url(): string {
      if (!opened) throw new Error('store not opened (beforeAll failed)');
      return opened.url;
    },
  };
}

let counter = 0;
/** Unique ids so tests sharing a database never see each other's rows. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}`;
}
