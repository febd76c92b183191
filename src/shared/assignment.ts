/** FNV-1a 32-bit: a stable hash that workflow code, activities and reports compute alike. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A number in [0, 1) fixed for this customer and salt. */
export function unitInterval(customerId: string, salt: string): number {
  return fnv1a(`${salt}:${customerId}`) / 0x1_0000_0000;
}

export interface Assignment {
  holdout: boolean;
  variant: string;
}

/**
 * Deterministic per customer and campaign: the holdout draw and the variant draw use separate salts,
 * so changing the holdout percentage does not reshuffle variants.
 */
export function assign(
  customerId: string,
  campaignId: string,
  holdoutPercent: number,
  variants: readonly { name: string; weight: number }[],
): Assignment {
  const holdout = unitInterval(customerId, `${campaignId}:holdout`) * 100 < holdoutPercent;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = unitInterval(customerId, `${campaignId}:variant`) * total;
  let variant = variants[variants.length - 1]?.name ?? 'control';
  for (const v of variants) {
    if (point < v.weight) {
      variant = v.name;
      break;
    }
    point -= v.weight;
  }
  return { holdout, variant };
}
