/**
 * The statistics behind campaign lift: a normal CDF (through an erf approximation) and the two-proportion
 * comparison of a treatment group against its holdout.
 */

/**
 * Error function, Abramowitz & Stegun formula 7.1.26 (absolute error below 1.5e-7): plenty for p-values
 * printed to three or four digits.
 */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-ax * ax));
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Two-sided p-value of a z statistic. */
export function twoSidedPValue(z: number): number {
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

export const Z_95 = 1.959963984540054;

/** Smallest group, and smallest expected count of conversions and of non-conversions per group, for a lift. */
export const MIN_GROUP_SIZE = 30;
export const MIN_EXPECTED_COUNT = 5;

export interface GroupCounts {
  /** Customers assigned to the group (intent to treat). */
  n: number;
  conversions: number;
}

export interface TwoProportionResult {
  treatmentRate: number;
  controlRate: number;
  /** treatmentRate - controlRate */
  difference: number;
  /** difference / controlRate; null when the control rate is 0. */
  relativeDifference: number | null;
  /** difference x treatment size: conversions the treatment added. */
  incremental: number;
  /** 95% confidence interval of the difference, unpooled standard error. */
  ci95: [number, number];
  /** Pooled-SE z statistic; 0 when both groups are all-converted or all-not. */
  z: number;
  pValue: number;
}

/**
 * Why a comparison of these two groups would be noise, or null when it is meaningful: each group needs at least
 * MIN_GROUP_SIZE customers, and at least MIN_EXPECTED_COUNT expected conversions and non-conversions under the
 * pooled rate (the usual condition for the normal approximation behind the z-test and the interval).
 */
export function insufficiency(treatment: GroupCounts, control: GroupCounts): string | null {
  const problems: string[] = [];
  for (const [name, g] of [['treatment', treatment], ['holdout', control]] as const) {
    if (g.n < MIN_GROUP_SIZE) problems.push(`${name} has ${g.n} customers (at least ${MIN_GROUP_SIZE} needed)`);
  }
  if (problems.length === 0) {
    const pooled = (treatment.conversions + control.conversions) / (treatment.n + control.n);
    for (const [name, g] of [['treatment', treatment], ['holdout', control]] as const) {
      const expectedYes = g.n * pooled;
      const expectedNo = g.n * (1 - pooled);
      if (Math.min(expectedYes, expectedNo) < MIN_EXPECTED_COUNT) {
        problems.push(
          `${name} expects ${expectedYes.toFixed(1)} conversions and ${expectedNo.toFixed(1)} non-conversions (at least ${MIN_EXPECTED_COUNT} of each needed)`,
        );
      }
    }
  }
  return problems.length === 0 ? null : `not enough data: ${problems.join('; ')}`;
}

/**
 * Compares conversion rates: z-test with the pooled standard error sqrt(p(1-p)(1/nT + 1/nC)), p = all conversions /
 * all customers; the interval uses the unpooled standard error sqrt(pT(1-pT)/nT + pC(1-pC)/nC). Both groups must be
 * non-empty.
 */
export function twoProportionTest(treatment: GroupCounts, control: GroupCounts): TwoProportionResult {
  if (treatment.n <= 0 || control.n <= 0) throw new RangeError('both groups need at least one customer');
  const pT = treatment.conversions / treatment.n;
  const pC = control.conversions / control.n;
  const difference = pT - pC;
  const pooled = (treatment.conversions + control.conversions) / (treatment.n + control.n);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.n + 1 / control.n));
  const z = pooledSe === 0 ? 0 : difference / pooledSe;
  const unpooledSe = Math.sqrt((pT * (1 - pT)) / treatment.n + (pC * (1 - pC)) / control.n);
  return {
    treatmentRate: pT,
    controlRate: pC,
    difference,
    relativeDifference: pC === 0 ? null : difference / pC,
    incremental: difference * treatment.n,
    ci95: [difference - Z_95 * unpooledSe, difference + Z_95 * unpooledSe],
    z,
    pValue: twoSidedPValue(z),
  };
}
