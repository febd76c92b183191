import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';

/** A complaint campaign with the shipped templates; tests set the SLAs and tiers they exercise. */
export const complaintCampaign = (overrides: Partial<Extract<CampaignDefinitionInput, { stage: 'complaint' }>> = {}): CampaignDefinitionInput =>
  ({
    id: 'complaint-test',
    version: 1,
    stage: 'complaint',
    holdoutPercent: 0,
    sla: { firstResponse: '4 hours', resolution: '3 days' },
    coreSla: { firstResponse: '1 hour', resolution: '1 day' },
    coreTiers: ['gold'],
    templates: {
      acknowledge: 'complaint/acknowledge',
      update: 'complaint/update',
      escalated: 'complaint/escalated',
      resolved: 'complaint/resolved',
      survey: 'complaint/csat-survey',
      recovery: 'complaint/recovery',
    },
    csat: { timeout: '3 days', lowRatingAtMost: 2 },
    recoveryOffer: { discountPercent: 20, validFor: '30 days' },
    ...overrides,
  }) as CampaignDefinitionInput;
