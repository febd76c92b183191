import type { Client } from '@temporalio/client';
import type { CampaignCatalog } from '../campaigns/catalog';
import type { Store } from '../store';

/** What every trigger (HTTP route, CLI command, schedule) needs to start and steer journeys. */
export interface TriggerContext {
  client: Client;
  catalog: CampaignCatalog;
  taskQueue: string;
  store: Store;
}
