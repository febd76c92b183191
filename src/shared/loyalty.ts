export interface Tier {
  name: string;
  minPoints: number;
}

/** The highest tier whose threshold the points reach (tiers ascend by minPoints; the first starts at 0). */
export function tierFor(points: number, tiers: readonly Tier[]): string {
  let name = tiers[0]?.name ?? 'standard';
  for (const tier of tiers) if (points >= tier.minPoints) name = tier.name;
  return name;
}

/** Points earned for a purchase: whole points per whole currency unit spent. */
export function pointsFor(amount: number, pointsPerCurrencyUnit: number): number {
  return Math.floor(amount * pointsPerCurrencyUnit);
}

export function tierRank(name: string, tiers: readonly Tier[]): number {
  return tiers.findIndex((t) => t.name === name);
}
