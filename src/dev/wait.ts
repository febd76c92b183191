import net from 'node:net';

const LOCALHOST = '127.0.0.1';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const handedOut = new Set<number>();

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, LOCALHOST, () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });
}

/**
 * A port on 127.0.0.1 that was free a moment ago, never the same twice in a run: scenarios running side by side, and
 * a server restarted on its old port, cannot collide. Picked at random from 20000 up to `below`, under Linux's
 * ephemeral range (32768 and up): a port the system hands out itself may be taken a moment later as the local end of
 * some outgoing connection, before the server it was meant for binds it. Temporal keeps membership ports in a
 * smallint column, so they must stay under 32768 anyway.
 */
export async function freePort(below = 32_768): Promise<number> {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * (below - 20_000));
    const port = await bindable(candidate);
    if (port !== undefined && !handedOut.has(port)) {
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

