export { freePort, portOpen, sleep, waitUntil, within } from '../../src/dev/wait';

/** Runs `task` over `items`, at most `limit` at a time. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

let verbose = true;

/** With false, `progress` prints only the lines marked as results. */
export function setVerbose(value: boolean): void {
  verbose = value;
}

/** A line of progress on stderr (stdout is kept for the final JSON line). */
export function progress(line: string, result = false): void {
  if (verbose || result) process.stderr.write(`chaos: ${line}\n`);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
