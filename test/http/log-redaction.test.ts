import { unsubscribeUrl } from '../../src/delivery/unsubscribe-token';
import { buildApp, type ApiApp } from '../../src/triggers/http/app';
import { seedCustomer } from '../journeys/journey-env';
import { API_TOKEN, PUBLIC_BASE_URL, startApiKit, type ApiKit } from './api-kit';

describe('the request log', () => {
  let kit: ApiKit;
  let app: ApiApp;
  const lines: string[] = [];
  beforeAll(async () => {
    kit = await startApiKit();
    // As `npm run api` builds it, with the log lines captured.
    app = await buildApp({ config: kit.config, ctx: kit.ctx }, { logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
  });
  afterAll(async () => {
    await app?.close();
    await kit?.close();
  });

  it('keeps no API token and no link signature, and still says which request it was', async () => {
    // Swapped for a session cookie (303): the token is in the request line once, and in no log line.
    const report = await app.inject({ method: 'GET', url: `/reports/data?from=2026-03-01&to=2026-03-04&token=${API_TOKEN}` });
    expect(report.statusCode).toBe(303);
    const customer = await seedCustomer(kit.store);
    const link = new URL(unsubscribeUrl(PUBLIC_BASE_URL, kit.config.linkSigningSecret, customer.id, 'email'));
    const signature = link.searchParams.get('t') as string;
    expect(signature.length).toBeGreaterThan(20);
    expect((await app.inject({ method: 'GET', url: link.pathname + link.search })).statusCode).toBe(200);

    const log = lines.join('');
    expect(log).toContain('/reports/data?from=2026-03-01&to=2026-03-04&token=[redacted]');
    expect(log).toContain(`/unsubscribe?c=${encodeURIComponent(customer.id)}&ch=email&t=[redacted]`);
    expect(log).not.toContain(API_TOKEN);
    expect(log).not.toContain(signature);
  });
});
