/** FNV-1a 32-bit: a stable hash that workflow code, activities and reports compute alike. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. FNV-1a alone changes mostly its low bits
 * for the last characters, so ids that differ at the end (cust-10 ... cust-19) fell into one arm together.
 */
export function mix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * `fnv1a` is the draw of journeys started before revision 12 (they keep the arm they were given); `mixed` spreads
 * similar ids evenly.
 */
export type AssignmentHash = 'fnv1a' | 'mixed';

/** A number in [0, 1) fixed for this customer and salt. */
export function unitInterval(customerId: string, salt: string, hash: AssignmentHash = 'mixed'): number {
  const raw = fnv1a(`${salt}:${customerId}`);
  return (hash === 'mixed' ? mix32(raw) : raw) / 0x1_0000_0000;
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
  hash: AssignmentHash = 'mixed',
): Assignment {
  const holdout = unitInterval(customerId, `${campaignId}:holdout`, hash) * 100 < holdoutPercent;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = unitInterval(customerId, `${campaignId}:variant`, hash) * total;
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
