import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runNode } from '../harness/processes';

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.destroy() || resolve(true));
    socket.once('error', () => resolve(false));
  });
}

/**
 * The README's first command, as a new user runs it (`npm run demo -- --exit`): its own dev server, worker and API on
 * free ports and a fresh data folder. A change that breaks the demo (a signing format, a route) fails here, not on the
 * next person to try the project.
 */
describe('npm run demo', () => {
  it('runs every stage end to end, mails the customers and stops the servers it started', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'demo-'));
    const [temporalPort, uiPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const { code, output } = await runNode(
      ['src/dev/demo.ts', '--exit'],
      { ...process.env, DATA_DIR: dataDir, TEMPORAL_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort), HTTP_PORT: String(httpPort) },
      240_000,
    );
    if (code !== 0) console.log(output.split('\n').slice(-60).join('\n'));
    expect(code).toBe(0);
    expect(output).toContain('demo finished');
    // The messages it reports were written: welcome emails in the outbox, addressed to the demo's customers.
    const outbox = path.join(dataDir, 'outbox');
    const emails = (await readdir(outbox)).filter((file) => file.endsWith('.eml'));
    expect(emails.length).toBeGreaterThan(0);
    const first = await readFile(path.join(outbox, emails[0] as string), 'utf8');
    expect(first).toMatch(/^Subject: /m);
    expect(first).toMatch(/^To: .*@/m);
    // Nothing it started is left behind.
    expect(await accepts(temporalPort)).toBe(false);
    expect(await accepts(httpPort)).toBe(false);
  }, 300_000);
});
