import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../cli-errors';
import { campaignDefinitionSchema, STAGES, type CampaignDefinition, type CampaignDefinitionInput, type Stage } from '../shared/campaign-definition';

export interface CatalogEntry {
  file: string;
  /** As written: what a workflow is started with (it validates again at start). */
  input: CampaignDefinitionInput;
  definition: CampaignDefinition;
}

export interface CampaignCatalog {
  dir: string;
  byId: Map<string, CatalogEntry>;
  /** The campaign each stage starts with when none is named: the one in `<stage>.json`. */
  defaults: Map<Stage, CatalogEntry>;
}

export class CampaignDefinitionError extends UserFacingError {
  override name = 'CampaignDefinitionError';
}

/** Validates one definition; the error names the file and each bad field by its path. */
export function parseDefinition(raw: unknown, file: string): CatalogEntry {
  const parsed = campaignDefinitionSchema().safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CampaignDefinitionError(`invalid campaign definition\n${lines.join('\n')}`);
  }
  return { file, input: raw as CampaignDefinitionInput, definition: parsed.data };
}

/** Loads and validates every `*.json` in the campaigns folder; one bad file refuses the whole catalog. */
export async function loadCatalog(dir: string): Promise<CampaignCatalog> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    throw new CampaignDefinitionError(`campaign folder ${dir} cannot be read; set CAMPAIGNS_DIR to a folder of *.json definitions`);
  }
  const byId = new Map<string, CatalogEntry>();
  const defaults = new Map<Stage, CatalogEntry>();
  for (const name of files) {
    const file = path.join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new CampaignDefinitionError(`invalid campaign definition\n  ${file}: not valid JSON (${(err as Error).message})`);
    }
    const entry = parseDefinition(raw, file);
    if (byId.has(entry.definition.id)) {
      throw new CampaignDefinitionError(`campaign id "${entry.definition.id}" appears in both ${byId.get(entry.definition.id)?.file} and ${file}`);
    }
    byId.set(entry.definition.id, entry);
    const stage = path.basename(name, '.json');
    if ((STAGES as readonly string[]).includes(stage)) {
      if (entry.definition.stage !== stage) {
        throw new CampaignDefinitionError(`${file}: stage is "${entry.definition.stage}" but the file is the default for ${stage}`);
      }
      defaults.set(stage as Stage, entry);
    }
  }
  return { dir, byId, defaults };
}

export function campaignFor(catalog: CampaignCatalog, stage: Stage, campaignId?: string): CatalogEntry {
  const entry = campaignId ? catalog.byId.get(campaignId) : catalog.defaults.get(stage);
  if (!entry) {
    throw new UserFacingError(
      campaignId ? `no campaign "${campaignId}" in ${catalog.dir}` : `no default ${stage} campaign: add ${path.join(catalog.dir, `${stage}.json`)}`,
    );
  }
  if (entry.definition.stage !== stage) {
    throw new UserFacingError(`campaign "${campaignId}" is a ${entry.definition.stage} campaign, not ${stage}`);
  }
  return entry;
}
