import net from 'node:net';

/**
 * A TCP proxy in front of a server that a test can cut off and restore: while down, open connections are reset and
 * new ones are closed at once, as when the server's host is gone. A client pointed at `address` sees the outage
 * and the recovery as it would in production (its channel reconnects by itself).
 */
export interface TcpProxy {
  address: string;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator);
  const port = Number(target.slice(separator + 1));
  const open = new Set<net.Socket>();
  let reachable = true;
  const server = net.createServer((client) => {
    if (!reachable) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${own}`,
    down() {
      reachable = false;
      for (const socket of open) socket.resetAndDestroy();
    },
    up() {
      reachable = true;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
