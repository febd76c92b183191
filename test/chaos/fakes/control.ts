import http from 'node:http';
import { sleep } from '../util';

export type ControlHandler = (body: Record<string, unknown>) => unknown;

/**
 * The fault switchboard of a fake, on its own port of 127.0.0.1: `POST /<action>` with a JSON body runs the
 * handler of that name and answers its result as JSON; `GET /health` answers 200.
 */
export function startControlServer(port: number, handlers: Record<string, ControlHandler>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const action = (req.url ?? '/').replace(/^\/+/, '').split('?')[0] ?? '';
      if (req.method === 'GET' && action === 'health') return reply(200, { ok: true });
      const handler = handlers[action];
      if (req.method !== 'POST' || !handler) return reply(404, { error: `no action ${action}` });
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        reply(200, handler(body) ?? { ok: true });
      } catch (err) {
        reply(400, { error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export function numberField(body: Record<string, unknown>, name: string, fallback?: number): number {
  const value = body[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`expected a number in "${name}"`);
  return value;
}

/**
 * "Kill the sender on receipt": armed with a PID and a count, it SIGKILLs that PID for the next `count` messages,
 * after the message is recorded and before the fake answers, so the provider has accepted a message the worker
 * never hears about (the in-doubt window).
 */
export class KillOnReceipt {
  private pid: number | undefined;
  private remaining = 0;

  arm(pid: number, count: number): void {
    this.pid = pid;
    this.remaining = count;
  }

  disarm(): void {
    this.pid = undefined;
    this.remaining = 0;
  }

  /** The PID to kill for this message (and uses up one), or undefined. */
  take(): number | undefined {
    if (this.pid === undefined || this.remaining <= 0) return undefined;
    this.remaining--;
    const pid = this.pid;
    if (this.remaining === 0) this.pid = undefined;
    return pid;
  }

  /** SIGKILL, then a moment so that the answer would reach a dead socket. */
  static async kill(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await sleep(300);
  }
}

/** The control routes that arm and disarm a fake's KillOnReceipt. */
export function killerHandlers(killer: KillOnReceipt): Record<string, ControlHandler> {
  return {
    'kill-on-receipt': (body) => {
      killer.arm(numberField(body, 'pid'), numberField(body, 'count', 1));
      return { armed: true };
    },
    disarm: () => {
      killer.disarm();
      return { armed: false };
    },
  };
}
