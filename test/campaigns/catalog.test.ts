import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { campaignFor, loadCatalog, parseDefinition } from '../../src/campaigns/catalog';
import { DEFAULT_CHURN_REASONS, STAGES, type CampaignDefinition } from '../../src/shared/campaign-definition';

describe('campaign catalog', () => {
  it('loads and validates every shipped definition, one default per stage', async () => {
    const catalog = await loadCatalog(path.resolve('campaigns'));
    for (const stage of STAGES) expect(campaignFor(catalog, stage).definition.stage).toBe(stage);
    const onboarding = campaignFor(catalog, 'onboarding').definition;
    expect(onboarding.stage === 'onboarding' && onboarding.steps[1]?.after).toBe(24 * 3_600_000);
  });

  it('refuses an invalid definition with the file and the path of each bad field', () => {
    const bad = {
      id: 'x',
      version: 1,
      stage: 'winback',
      inactiveDays: 30,
      steps: [{ id: 'a', template: 'winback/a', after: 'next tuesday' }],
      offer: { discountPercent: 150, validFor: '7 days' },
      finalWait: '2 days',
      churnSurvey: { template: 'nope', timeout: '1 day' },
    };
    expect(() => parseDefinition(bad, 'campaigns/bad.json')).toThrow(
      /campaigns\/bad\.json: steps\.0\.after: expected a duration[\s\S]*offer\.discountPercent[\s\S]*churnSurvey\.template: expected a template id/,
    );
  });

  it("declares a win-back's churn reasons as a closed list of unique keys (the default list when it names none)", () => {
    const winback = {
      id: 'x',
      version: 1,
      stage: 'winback',
      inactiveDays: 30,
      steps: [{ id: 'a', template: 'winback/a' }],
      offer: { discountPercent: 10, validFor: '7 days' },
      finalWait: '2 days',
      churnSurvey: { template: 'winback/churn-survey', timeout: '1 day' },
    };
    const parsed = parseDefinition(winback, 'campaigns/w.json').definition;
    expect(parsed.stage === 'winback' && parsed.churnSurvey.reasons.map((r) => r.key)).toEqual(DEFAULT_CHURN_REASONS.map((r) => r.key));
    const reasons = (list: unknown) => ({ ...winback, churnSurvey: { ...winback.churnSurvey, reasons: list } });
    expect(() => parseDefinition(reasons([{ key: 'Too Expensive', label: 'Too expensive' }]), 'campaigns/w.json')).toThrow(/churnSurvey\.reasons\.0\.key: expected a lowercase key/);
    expect(() => parseDefinition(reasons([{ key: 'price', label: 'A' }, { key: 'price', label: 'B' }]), 'campaigns/w.json')).toThrow(/churnSurvey\.reasons: reason keys must be unique/);
    expect(() => parseDefinition(reasons([]), 'campaigns/w.json')).toThrow(/churnSurvey\.reasons/);
  });

  it('refuses a folder with a file that is not JSON, naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'campaigns-'));
    await writeFile(path.join(dir, 'nurture.json'), '{ not json');
    await expect(loadCatalog(dir)).rejects.toThrow(/nurture\.json: not valid JSON/);
  });
});

/** The waits a journey of the stage goes through, in ms (not offer validity or send deadlines, which are no waits). */
function journeyWaits(definition: CampaignDefinition): Record<string, number> {
  const steps = (list: { id: string; after: number }[]) => Object.fromEntries(list.map((s) => [`steps.${s.id}.after`, s.after]));
  switch (definition.stage) {
    case 'onboarding':
      return { ...steps(definition.steps), finalWait: definition.finalWait };
    case 'winback':
      return { ...steps(definition.steps), finalWait: definition.finalWait, 'churnSurvey.timeout': definition.churnSurvey.timeout };
    case 'nurture':
      return { 'touch.every': definition.touch.every, 'inactivity.threshold': definition.inactivity.threshold };
    case 'complaint':
      return {
        'sla.firstResponse': definition.sla.firstResponse,
        'sla.resolution': definition.sla.resolution,
        'coreSla.firstResponse': definition.coreSla.firstResponse,
        'coreSla.resolution': definition.coreSla.resolution,
        'csat.timeout': definition.csat.timeout,
      };
  }
}

describe('demo campaigns', () => {
  it('are valid and use second-scale timing', async () => {
    const catalog = await loadCatalog(path.resolve('campaigns/demo'));
    for (const stage of STAGES) {
      const { definition } = campaignFor(catalog, stage);
      expect(definition.id).toMatch(/^demo-/);
      const waits = Object.entries(journeyWaits(definition));
      expect(waits.length).toBeGreaterThan(0);
      // Every wait within a minute, so a demo journey runs its course while someone watches.
      expect(waits.filter(([, ms]) => ms > 60_000).map(([field, ms]) => `${stage} ${field}: ${ms} ms`)).toEqual([]);
    }
  });
});
