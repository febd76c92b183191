/**
 * Evaluated once per workflow thread and shared by every workflow in it (the worker's bundlerOptions.preloadModules),
 * instead of once per new workflow. Only modules without per-workflow state belong here: zod builds a fresh object
 * for every schema. The SDK freezes what preloading leaves behind, zod's global configuration included.
 */
import { z } from 'zod';

// zod fills in its global configuration (default locale, memoizer) when the first schemas are built and parse: do
// both now, while that object can still be written. This also keeps webpack from dropping the import (zod says it
// has no side effects).
z.object({ kind: z.enum(['a']), n: z.number().int(), s: z.string().min(1), when: z.union([z.string(), z.null()]) }).safeParse({});
