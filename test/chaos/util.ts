import net from 'node:net';

export const LOCALHOST = '127.0.0.1';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const handedOut = new Set<number>();

/**
 * A port on 127.0.0.1 that was free a moment ago (the system picks it), never the same twice in a run: scenarios
 * running side by side, and a server restarted on its old port, cannot collide.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, LOCALHOST, () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOCALHOST, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** `promise`, or `fallback` once `ms` have passed (the promise is left to settle on its own). */
export function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `check` every `intervalMs` until it returns true or `timeoutMs` pass; true when the check won.
 * A throwing check, or one that takes longer than `checkTimeoutMs`, counts as "not yet".
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
  checkTimeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await within(Promise.resolve(check()), checkTimeoutMs, false)) return true;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(deadline - Date.now(), 0)));
  }
}

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
