import type { OutcomeCell } from './scan';
import { num, rate } from './sql';
import { insufficiency, twoProportionTest } from './stats';
import type { CampaignFigures, Lift, VariantFunnel } from './types';

export { CONVERSION_STATUSES } from './scan';

const FUNNEL_STATUSES = new Set(['entered', 'sent', 'delivered', 'skipped', 'failed', 'bounced', 'in_doubt']);

interface GroupKey {
  campaign_id: string;
  stage: string;
  variant: string;
  holdout: number;
}

const keyOf = (r: GroupKey) => JSON.stringify([r.campaign_id, r.stage, r.variant, num(r.holdout)]);

/**
 * Per campaign and (variant, holdout) group, counted by assignment (intent to treat):
 * - entered = journeys whose `entered` outcome falls in the period (every run records one, with its assignment);
 * - conversions = those entries whose run later records a conversion outcome (CONVERSION_STATUSES), whenever;
 * - sent / delivered / failed (failed + bounced) / skipped by reason / in doubt = message outcomes recorded in the period
 *   ('deferred' rows are not final and not counted: the deferred message is later sent or skipped); delivered
 *   counts `delivered` outcome rows.
 * Lift per campaign: treatment = every non-holdout group, control = the holdout; see `liftOf`.
 */
export function campaignFigures(cells: OutcomeCell[]): CampaignFigures[] {
  const groups = new Map<string, { key: GroupKey; funnel: VariantFunnel; reasons: Map<string, number> }>();
  const group = (r: GroupKey) => {
    const id = keyOf(r);
    let g = groups.get(id);
    if (!g) {
      const funnel: VariantFunnel = {
        variant: r.variant,
        holdout: num(r.holdout) === 1,
        entered: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        bounced: 0,
        skipped: 0,
        skippedByReason: [],
        inDoubt: 0,
        conversions: 0,
        conversionRate: rate(0, 0),
      };
      g = { key: r, funnel, reasons: new Map() };
      groups.set(id, g);
    }
    return g;
  };
  for (const cell of cells) {
    if (!FUNNEL_STATUSES.has(cell.status)) continue;
    const g = group({ campaign_id: cell.campaignId, stage: cell.stage, variant: cell.variant, holdout: cell.holdout ? 1 : 0 });
    const n = cell.count;
    if (cell.status === 'entered') {
      g.funnel.entered += n;
      g.funnel.conversions += cell.conversions;
    }
    else if (cell.status === 'sent') g.funnel.sent += n;
    else if (cell.status === 'delivered') g.funnel.delivered += n;
    else if (cell.status === 'in_doubt') g.funnel.inDoubt += n;
    else if (cell.status === 'skipped') {
      g.funnel.skipped += n;
      const reason = cell.reason ?? 'unknown';
      g.reasons.set(reason, (g.reasons.get(reason) ?? 0) + n);
    } else {
      g.funnel.failed += n;
      if (cell.status === 'bounced') g.funnel.bounced = (g.funnel.bounced ?? 0) + n;
    }
  }

  const campaigns = new Map<string, CampaignFigures>();
  for (const { key, funnel, reasons } of groups.values()) {
    funnel.conversionRate = rate(funnel.conversions, funnel.entered);
    funnel.skippedByReason = [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    const id = JSON.stringify([key.campaign_id, key.stage]);
    const campaign = campaigns.get(id) ?? { campaignId: key.campaign_id, stage: key.stage, variants: [], lift: liftOf([]) };
    campaign.variants.push(funnel);
    campaigns.set(id, campaign);
  }
  const result = [...campaigns.values()].sort((a, b) => a.stage.localeCompare(b.stage) || a.campaignId.localeCompare(b.campaignId));
  for (const c of result) {
    c.variants.sort((a, b) => Number(a.holdout) - Number(b.holdout) || a.variant.localeCompare(b.variant));
    c.lift = liftOf(c.variants);
  }
  return result;
}

/**
 * Lift of the treatment (all non-holdout groups) over the holdout, by assignment: conversion rates, absolute lift
 * (difference of rates), relative lift (absolute / holdout rate), incremental conversions (absolute lift x treated
 * customers), 95% CI of the absolute lift and the two-proportion z-test p-value (src/reports/stats.ts). With too few
 * customers or conversions (see `insufficiency`) only the rates are given, with the reason in `note`.
 */
export function liftOf(variants: VariantFunnel[]): Lift {
  const sum = (holdout: boolean) =>
    variants
      .filter((v) => v.holdout === holdout)
      .reduce((acc, v) => ({ n: acc.n + v.entered, conversions: acc.conversions + v.conversions }), { n: 0, conversions: 0 });
  const treatment = sum(false);
  const control = sum(true);
  const rates = { treatment: rate(treatment.conversions, treatment.n), control: rate(control.conversions, control.n) };
  const problem = insufficiency(treatment, control);
  if (problem !== null) {
    return { enoughData: false, note: problem, ...rates, absoluteLift: null, relativeLift: null, incrementalConversions: null, ci95: null, pValue: null, z: null };
  }
  const test = twoProportionTest(treatment, control);
  return {
    enoughData: true,
    note: null,
    ...rates,
    absoluteLift: test.difference,
    relativeLift: test.relativeDifference,
    incrementalConversions: test.incremental,
    ci95: test.ci95,
    pValue: test.pValue,
    z: test.z,
  };
}
