import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes that ops filter on in the Temporal Web UI; registered by the dev server at start. */
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const LifecycleStageKey = defineSearchAttributeKey('LifecycleStage', SearchAttributeType.KEYWORD);
export const CampaignIdKey = defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD);
export const CampaignStepKey = defineSearchAttributeKey('CampaignStep', SearchAttributeType.KEYWORD);
export const OutcomeKey = defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [CustomerIdKey, LifecycleStageKey, CampaignIdKey, CampaignStepKey, OutcomeKey];
