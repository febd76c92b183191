import type { DevServer } from '../../src/dev/dev-server';
import type { TestPostgres } from './postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __devServer?: DevServer }).__devServer?.stop();
  await (globalThis as { __postgres?: TestPostgres }).__postgres?.stop();
}
