import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { UserFacingError } from '../cli-errors';
import type { CampaignCatalog } from '../campaigns/catalog';
import type { AppConfig } from '../config';
import { customSearchAttributes } from '../shared/search-attributes';
import { parseInput } from './errors';
import { ensureSchedules, type EnsuredSchedule } from './schedules';
import { ensureNamespace, type EnsuredNamespace } from './setup/namespace';
import { ensureSearchAttributes, type EnsuredSearchAttribute } from './setup/search-attributes';

const SetupOptionsSchema = z.object({
  taskQueue: z.string().min(1),
  sweepHour: z.number().int().min(0).max(23).optional(),
  timezone: z.string().min(1).optional(),
  /** History retention of a namespace setup creates; an existing namespace is left as it is. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** How long to wait for a new namespace or search attribute to be served before giving up. */
  waitMs: z.number().int().min(0).default(60_000),
});

export type SetupOptions = z.input<typeof SetupOptionsSchema> & { catalog: CampaignCatalog };

export interface SetupSummary {
  namespace: EnsuredNamespace;
  searchAttributes: EnsuredSearchAttribute[];
  schedules: EnsuredSchedule[];
}

/** The setup the configuration describes (task queue, sweep time), for `catalog`. */
export function setupOptionsFor(config: AppConfig, catalog: CampaignCatalog, extra: { retentionDays?: number } = {}): SetupOptions {
  return {
    taskQueue: config.temporal.taskQueue,
    sweepHour: config.schedules.sweepHour,
    timezone: config.schedules.timezone,
    catalog,
    ...extra,
  };
}

/**
 * Prepares the Temporal behind `client` for the product, in its namespace: creates the namespace if missing,
 * registers the missing custom search attributes, creates or updates the schedules. Safe to repeat; run once per
 * deploy (`retention setup`), not by every worker. `log` gets one line per decision.
 */
export async function setupTemporal(client: Client, options: SetupOptions, log: (line: string) => void = () => undefined): Promise<SetupSummary> {
  const { retentionDays, waitMs, ...schedule } = parseInput(SetupOptionsSchema, options, 'setup options');
  const { namespace } = client.options;

  const ensuredNamespace = await ensureNamespace(client.connection, namespace, { retentionDays, waitMs });
  const days = ensuredNamespace.retentionDays;
  const retention = days === undefined ? '' : ` (retention ${days} ${days === 1 ? 'day' : 'days'})`;
  log(`namespace ${namespace}: ${ensuredNamespace.action}${retention}`);

  const searchAttributes = await ensureSearchAttributes(client.connection, namespace, customSearchAttributes, { waitMs });
  for (const a of searchAttributes) log(`search attribute ${a.name} (${a.type}): ${a.action}`);

  const schedules = await ensureSchedules(client, { ...schedule, catalog: options.catalog }).catch((err: Error) => {
    throw err instanceof UserFacingError ? err : new UserFacingError(`cannot create or update the schedules in namespace ${namespace}: ${err.message}`);
  });
  for (const s of schedules) log(`schedule ${s.scheduleId} ${s.action}: ${s.description}`);

  return { namespace: ensuredNamespace, searchAttributes, schedules };
}
