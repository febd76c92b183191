import type { Client } from '@temporalio/client';
import { loadCatalog } from '../campaigns/catalog';
import type { AppConfig } from '../config';
import { createStore } from '../store';
import type { TriggerContext } from './context';

/** Opens the store (migrated) and the campaign catalog for a trigger process (API, CLI) on an open client. */
export async function openTriggerContext(config: AppConfig, client: Client): Promise<{ ctx: TriggerContext; close(): Promise<void> }> {
  const catalog = await loadCatalog(config.campaignsDir);
  const store = await createStore(config.database.url);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return { ctx: { client, catalog, taskQueue: config.temporal.taskQueue, store }, close: () => store.close() };
}
