import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../../src/dev/chromium';
import { computeReport } from '../../src/reports/compute';
import { renderReportPage } from '../../src/reports/page/report-page';
import type { Report } from '../../src/reports/types';
import { buildApp } from '../../src/triggers/http/app';
import { REPORT_SESSION_COOKIE, REPORT_SESSION_TTL_MS } from '../../src/triggers/http/report-session';
import { REPORT_SEED_EXPECTED as expected, REPORT_SEED_PERIOD, seedReportDataset } from '../reports/seed';
import { API_TOKEN, startApiKit, type ApiKit } from './api-kit';

/** What the test reads of a drawn chart (the page's globals, typed here since the project has no DOM lib). */
interface DrawnChart {
  id: string;
  type: string | undefined;
  labels: unknown[];
  datasets: Array<{ label: string; data: unknown[] }>;
  /** Non-transparent pixels on the canvas: > 0 once Chart.js has painted it. */
  paintedPixels: number;
}

interface BrowserGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<BrowserCanvas>; body: { dataset: Record<string, string | undefined> } };
  Chart: { getChart(canvas: BrowserCanvas): { config: { type: string }; data: { labels?: unknown[]; datasets: Array<{ label?: string; data: unknown[] }> } } | undefined };
}
interface BrowserCanvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}

const QUERY = 'from=2026-03-01&to=2026-03-04';
/** A token without reports:read (API_TOKENS `name:scope:secret`). */
const CRM_TOKEN = 'crm-sync-secret-0123456789';
const SCREENSHOT = path.resolve('test-results', 'report-page.png');

describe('report page (GET /reports) in Chromium', () => {
  let kit: ApiKit;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    // Refusals below come from one address: keep the failed-authentication limit out of the way.
    kit = await startApiKit({ env: { API_TOKENS: `${API_TOKEN},crm:customers:write:${CRM_TOKEN}`, RATE_LIMIT_FAILED_AUTH: '10000' } });
    await seedReportDataset(kit.store);
    base = await kit.listen();
    browser = await chromium.launch({ executablePath: await ensureChromium(), args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await kit?.close();
  });

  it('needs the marketer token: 401 without it, 403 with a wrong one, in the header or the query', async () => {
    expect((await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}` })).statusCode).toBe(401);
    expect((await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}` })).statusCode).toBe(401);
    expect((await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}&token=wrong` })).statusCode).toBe(403);
    expect((await kit.app.inject({ method: 'GET', url: `/reports/data`, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(403);
    const page = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}`, headers: kit.auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers bad query values with 400 naming the field', async () => {
    const badFrom = await kit.app.inject({ method: 'GET', url: '/reports?from=2026-02-30', headers: kit.auth });
    expect(badFrom.statusCode).toBe(400);
    expect(badFrom.json().issues).toEqual([expect.objectContaining({ path: 'querystring.from', message: expect.stringContaining('expected a date') })]);

    const badStage = await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}&stage=nope`, headers: kit.auth });
    expect(badStage.statusCode).toBe(400);
    expect(badStage.json().issues).toEqual([expect.objectContaining({ path: 'querystring.stage' })]);

    const reversed = await kit.app.inject({ method: 'GET', url: '/reports/data?from=2026-03-04&to=2026-03-01', headers: kit.auth });
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().issues).toEqual([expect.objectContaining({ path: 'querystring.from', message: expect.stringContaining('must be before to') })]);

    // Ten years and a day: longer than a report covers (it would build a bucket per month of the whole span).
    const tooLong = await kit.app.inject({ method: 'GET', url: '/reports/data?from=2016-01-01&to=2026-01-03', headers: kit.auth });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().issues).toEqual([expect.objectContaining({ path: 'querystring.from', message: expect.stringContaining('at most 10 years') })]);
    const ages = await kit.app.inject({ method: 'GET', url: '/reports/data?from=0001-01-01&to=9999-12-31', headers: kit.auth });
    expect(ages.statusCode).toBe(400);
    const tenYears = await kit.app.inject({ method: 'GET', url: '/reports/data?from=2016-01-01&to=2026-01-01', headers: kit.auth });
    expect(tenYears.statusCode).toBe(200);
  });

  it('serves the report as JSON, equal to computeReport over the same store', async () => {
    const response = await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}`, headers: kit.auth });
    expect(response.statusCode).toBe(200);
    const served = response.json() as Report;
    const computed = JSON.parse(JSON.stringify(await computeReport(kit.store, REPORT_SEED_PERIOD))) as Report;
    expect({ ...served, generatedAt: 'x' }).toEqual({ ...computed, generatedAt: 'x' });
    expect(served.retention.churnRate.rate).toBeCloseTo(expected.churnRate, 12);
    expect(served.satisfaction.nps).toEqual(expected.nps);

    // Empty filter fields (as the page's form sends them) mean "all".
    const emptyFilters = await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}&stage=&campaign=&variant=&tier=`, headers: kit.auth });
    expect({ ...(emptyFilters.json() as Report), generatedAt: 'x' }).toEqual({ ...served, generatedAt: 'x' });
  });

  it('serves Chart.js from the installed package with caching headers', async () => {
    const response = await kit.app.inject({ method: 'GET', url: '/reports/assets/chart.umd.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(response.body).toContain('Chart');
    const etag = response.headers.etag as string;
    const again = await kit.app.inject({ method: 'GET', url: '/reports/assets/chart.umd.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
  });

  it('escapes report text in the markup and in the embedded chart data', async () => {
    const report = await computeReport(kit.store, REPORT_SEED_PERIOD);
    const nasty = '</script><img src=x onerror="globalThis.injected=1">';
    report.campaigns[0]!.campaignId = nasty;
    report.winback.churnReasons[0]!.reason = nasty;
    const markup = renderReportPage(report, { nonce: 'n0nce', chartJsSrc: '/reports/assets/chart.umd.js', dataPath: '/reports/data' });
    expect(markup).not.toContain('<img');

    // Parsed by a real browser: the text survives as text, the chart data as data, and nothing runs.
    const page = await browser.newPage();
    await page.setContent(markup);
    const seen = await page.evaluate(() => {
      const w = globalThis as unknown as BrowserGlobals & { injected?: number; document: { getElementById(id: string): { textContent: string } | null } };
      return { injected: w.injected, images: w.document.querySelectorAll('img').length, charts: JSON.parse(w.document.getElementById('report-charts')?.textContent ?? '[]') as Array<{ title: string }> };
    });
    expect(seen).toMatchObject({ injected: undefined, images: 0 });
    expect(seen.charts.some((c) => c.title.startsWith(nasty))).toBe(true);
    expect(await page.getByTestId('churn-reasons').textContent()).toContain(nasty);
    await page.close();
  });

  it('shows the hand-computed figures and draws every chart with the seeded numbers', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    const response = await page.goto(`${base}/reports?token=${API_TOKEN}&${QUERY}`);
    expect(response?.status()).toBe(200);
    // The token was swapped for the session cookie on the way: it is not in the address the page is at.
    expect(page.url()).toBe(`${base}/reports?${QUERY}`);
    await page.waitForFunction(() => {
      const body = (globalThis as unknown as BrowserGlobals).document.body;
      return body.dataset.chartsReady !== undefined || body.dataset.chartsError !== undefined;
    });
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.chartsError)).toBeUndefined();

    expect(await page.title()).toBe('Retention report 2026-03-01 – 2026-03-04');
    await expectHeadlines(page);
    await expectCharts(page);
    expect(problems).toEqual([]);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  describe('session: the token is swapped for a cookie once', () => {
    const cookieOf = (setCookie: string | string[] | undefined) => String(setCookie).split(';', 1)[0] as string;
    /** The session cookie of a fresh swap, as a Cookie header. */
    const session = async (token = API_TOKEN) => {
      const swap = await kit.app.inject({ method: 'GET', url: `/reports?token=${token}&${QUERY}` });
      expect(swap.statusCode).toBe(303);
      return { cookie: cookieOf(swap.headers['set-cookie']) };
    };

    it('sets an HttpOnly, SameSite=Strict, Secure (https) 8-hour cookie and redirects (303) to the same URL without the token', async () => {
      const swap = await kit.app.inject({ method: 'GET', url: `/reports?from=2026-03-01&token=${API_TOKEN}&to=2026-03-04&stage=` });
      expect(swap.statusCode).toBe(303);
      expect(swap.headers.location).toBe('/reports?from=2026-03-01&to=2026-03-04&stage=');
      expect(swap.headers['set-cookie']).toMatch(
        new RegExp(`^${REPORT_SESSION_COOKIE}=v1\\.[\\w-]+\\.\\d+\\.[\\w-]+; Path=/reports; Max-Age=${REPORT_SESSION_TTL_MS / 1000}; HttpOnly; SameSite=Strict; Secure$`),
      );
      expect(swap.headers['set-cookie']).not.toContain(API_TOKEN);
      expect(swap.headers['cache-control']).toBe('no-store');
      expect(swap.body).toBe('');

      // The same for the JSON route.
      const data = await kit.app.inject({ method: 'GET', url: `/reports/data?token=${API_TOKEN}&${QUERY}` });
      expect(data.statusCode).toBe(303);
      expect(data.headers.location).toBe(`/reports/data?${QUERY}`);
    });

    it('authorizes the page and its data with the cookie, and the page carries no token', async () => {
      const headers = await session();
      const page = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}`, headers });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).not.toContain(API_TOKEN);
      expect(page.body).not.toContain('name="token"');
      const data = await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}`, headers });
      expect(data.statusCode).toBe(200);
      expect((data.json() as Report).retention.churnRate.rate).toBeCloseTo(expected.churnRate, 12);
    });

    it('authorizes nothing but the report routes', async () => {
      const headers = await session();
      await kit.store.upsertCustomer({ id: 'session-probe', name: 'Probe', email: 'probe@example.com', consentEmail: true, consentSms: false });
      for (const [method, url, payload] of [
        ['GET', '/customers/session-probe', undefined],
        ['PUT', '/customers/session-probe/consent', { email: false }],
        ['GET', '/customers/session-probe/journeys', undefined],
        ['POST', '/campaigns/onboarding/start', { customerIds: ['session-probe'] }],
      ] as const) {
        const response = await kit.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        expect({ method, url, status: response.statusCode }).toEqual({ method, url, status: 401 });
      }
      expect(await kit.store.getCustomer('session-probe')).toMatchObject({ consentEmail: true });
      // A bearer header, when sent, is what counts.
      const wrongBearer = await kit.app.inject({ method: 'GET', url: `/reports/data?${QUERY}`, headers: { ...headers, authorization: 'Bearer wrong' } });
      expect(wrongBearer.statusCode).toBe(403);
    });

    it('is valid on any API instance with the same tokens until it expires, and dies with its token', async () => {
      const headers = await session();
      const at = (offsetMs: number) => () => new Date(Date.now() + offsetMs);
      const instance = (offsetMs: number, config = kit.config) => buildApp({ config, ctx: kit.ctx, now: at(offsetMs) });
      const status = async (app: Awaited<ReturnType<typeof instance>>, sent: Record<string, string> = headers) => {
        try {
          const response = await app.inject({ method: 'GET', url: `/reports/data?${QUERY}`, headers: sent });
          return { status: response.statusCode, message: (response.json() as { message?: string }).message };
        } finally {
          await app.close();
        }
      };
      expect((await status(await instance(0))).status).toBe(200);
      expect((await status(await instance(REPORT_SESSION_TTL_MS - 60_000))).status).toBe(200);
      expect(await status(await instance(REPORT_SESSION_TTL_MS + 1000))).toEqual({ status: 401, message: expect.stringContaining('expired') });

      // Removed from API_TOKENS: its sessions end with it.
      const withoutIt = { ...kit.config, http: { ...kit.config.http, apiTokens: kit.config.http.apiTokens.filter((token) => token.secret !== API_TOKEN) } };
      expect((await status(await instance(0, withoutIt))).status).toBe(401);

      // Signed for one token: neither another name nor another signature passes.
      const [name, value] = headers.cookie.split('=') as [string, string];
      const [version, , expires, signature] = value.split('.');
      const otherName = `${name}=${version}.${Buffer.from('crm').toString('base64url')}.${expires}.${signature}`;
      expect((await status(await instance(0), { cookie: otherName })).status).toBe(401);
      const otherSignature = `${headers.cookie.slice(0, -4)}AAAA`;
      expect((await status(await instance(0), { cookie: otherSignature })).status).toBe(401);
    });

    it('gives no session to a wrong token or to a token without reports:read (403 naming the scope)', async () => {
      const wrong = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}&token=wrong-token-0123456789` });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.headers['set-cookie']).toBeUndefined();
      const crm = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}&token=${CRM_TOKEN}` });
      expect(crm.statusCode).toBe(403);
      expect(crm.json().message).toContain('lacks the scope reports:read');
      expect(crm.headers['set-cookie']).toBeUndefined();
    });

    it('answers a cross-site navigation without a session with a page reloading itself from this origin (no report, no loop)', async () => {
      const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
      const crossSite = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}`, headers: { ...navigation, 'sec-fetch-site': 'cross-site' } });
      expect(crossSite.statusCode).toBe(200);
      expect(crossSite.body).toContain('<meta http-equiv="refresh" content="0">');
      expect(crossSite.body).not.toContain('Retention report 2026');
      // The reload comes from this origin: without a cookie it is refused as usual.
      const reload = await kit.app.inject({ method: 'GET', url: `/reports?${QUERY}`, headers: { ...navigation, 'sec-fetch-site': 'same-origin' } });
      expect(reload.statusCode).toBe(401);
    });

    it('marks the cookie Secure only when PUBLIC_BASE_URL is https', async () => {
      const plain = await buildApp({ config: { ...kit.config, http: { ...kit.config.http, publicBaseUrl: 'http://127.0.0.1:3000' } }, ctx: kit.ctx });
      try {
        const swap = await plain.inject({ method: 'GET', url: `/reports?token=${API_TOKEN}&${QUERY}` });
        expect(swap.statusCode).toBe(303);
        expect(swap.headers['set-cookie']).toMatch(/; SameSite=Strict$/);
      } finally {
        await plain.close();
      }
    });

    it('in a browser: the token leaves the address bar, the cookie is HttpOnly and Strict, the form and the JSON link work on it', async () => {
      const page = await browser.newPage();
      await page.goto(`${base}/reports?token=${API_TOKEN}&${QUERY}`);
      expect(page.url()).toBe(`${base}/reports?${QUERY}`);
      const [cookie, ...others] = await page.context().cookies();
      expect(others).toEqual([]);
      expect(cookie).toMatchObject({ name: REPORT_SESSION_COOKIE, path: '/reports', httpOnly: true, sameSite: 'Strict' });
      expect((cookie?.expires ?? 0) * 1000).toBeGreaterThan(Date.now() + REPORT_SESSION_TTL_MS - 60_000);
      expect((cookie?.expires ?? 0) * 1000).toBeLessThanOrEqual(Date.now() + REPORT_SESSION_TTL_MS + 60_000);
      expect(await page.content()).not.toContain(API_TOKEN);

      await page.selectOption('select[name="stage"]', 'complaint');
      await Promise.all([page.waitForURL(/stage=complaint/), page.click('button[type="submit"]')]);
      expect(page.url()).not.toContain('token');
      expect(await page.title()).toBe('Retention report 2026-03-01 – 2026-03-04');

      const [json] = await Promise.all([page.waitForResponse((r) => r.url().includes('/reports/data')), page.click('text=JSON')]);
      expect(json.status()).toBe(200);
      expect(((await json.json()) as Report).query.stage).toBe('complaint');
      await page.close();
    });

    it('in a browser: opens from a link on another site (webmail, chat), though a Strict cookie is not sent on that navigation', async () => {
      const elsewhere: Server = createServer((_request, response) => {
        response.setHeader('content-type', 'text/html');
        response.end(`<!doctype html><a id="report" href="${base}/reports?token=${API_TOKEN}&${QUERY}">report</a>`);
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
      // localhost and 127.0.0.1 are different sites.
      const otherSite = `http://localhost:${(elsewhere.address() as AddressInfo).port}/`;
      const page = await browser.newPage();
      try {
        await page.goto(otherSite);
        await Promise.all([page.waitForURL(`${base}/reports?${QUERY}`), page.click('#report')]);
        // Without a session the page never comes: fail in seconds, showing what came instead.
        const drawn = await page
          .waitForFunction(
            () => {
              const body = (globalThis as unknown as BrowserGlobals).document.body;
              return body?.dataset.chartsReady !== undefined || body?.dataset.chartsError !== undefined;
            },
            undefined,
            { timeout: 10_000 },
          )
          .then(() => 'drawn', async () => `not drawn: ${await page.content()}`);
        expect(drawn).toBe('drawn');
        expect(await text(page, 'churn-rate')).toBe('30.0%');
        expect(page.url()).toBe(`${base}/reports?${QUERY}`);
      } finally {
        await page.close();
        await new Promise((resolve) => elsewhere.close(resolve));
      }
    });
  });
});

async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

async function expectHeadlines(page: Page) {
  // Literal strings: the hand-computed values of REPORT_SEED_EXPECTED as the page writes them.
  expect(await text(page, 'churn-rate')).toBe('30.0%');
  expect(await text(page, 'retention-rate')).toBe('60.0%');
  expect(await text(page, 'repeat-purchase-rate')).toBe('40.0%');
  expect(await text(page, 'revenue')).toBe('640.00');
  expect(await text(page, 'clv-gold')).toBe('1,000.00');
  expect(await text(page, 'clv-standard')).toBe('140.00');
  expect(await text(page, 'core-revenue-share')).toBe('46.9%');
  expect(await text(page, 'winback-rate')).toBe('14.3%');
  expect((await page.getByTestId('churn-reasons').locator('li').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
    'price2',
    'moved1',
    'no-answer1',
  ]);
  expect(await text(page, 'csat')).toBe('66.7%');
  expect(await text(page, 'nps')).toBe('+25');
  expect(await text(page, 'complaints-opened')).toBe('5');
  expect(await text(page, 'complaints-open')).toBe('2');
  expect(await text(page, 'complaints-escalations')).toBe('2');
  expect(await text(page, 'first-response-median')).toBe('1h');
  expect(await text(page, 'first-response-p90')).toBe('5h');
  expect(await text(page, 'resolution-median')).toBe('4h');
  expect(await text(page, 'resolution-p90')).toBe('1d 2h');

  // Treatment 21/40 vs holdout 6/30: +32.5 pp, interval 0.325 -/+ 1.96 x 0.10755.
  const lift = await text(page, 'lift-onboarding-spring');
  expect(lift).toContain('Lift +32.5 pp');
  expect(lift).toContain('95% CI +11.4 pp to +53.6 pp');
  expect(lift).toContain('treatment 52.5% (21 of 40) vs holdout 20.0% (6 of 30)');
  // Win-back: 5 treated and 2 held out.
  expect(await text(page, 'lift-winback-spring')).toMatch(/^Lift: not enough data\..*treatment has 5 customers.*holdout has 2 customers/);
}

async function expectCharts(page: Page) {
  const charts = await page.evaluate((): DrawnChart[] => {
    const w = globalThis as unknown as BrowserGlobals;
    return Array.from(w.document.querySelectorAll('canvas')).map((canvas) => {
      const chart = w.Chart.getChart(canvas);
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) painted++;
      return {
        id: canvas.id,
        type: chart?.config.type,
        labels: chart?.data.labels ?? [],
        datasets: (chart?.data.datasets ?? []).map((d) => ({ label: d.label ?? '', data: d.data })),
        paintedPixels: painted,
      };
    });
  });
  const ids = ['retention-trend', 'satisfaction-trend', 'complaint-durations', 'lift', 'funnel-complaint-default', 'funnel-onboarding-spring', 'funnel-winback-spring'];
  expect(charts.map((c) => c.id).sort()).toEqual([...ids].sort());
  expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.chartsReady)).toBe(String(ids.length));
  for (const chart of charts) {
    expect({ id: chart.id, drawn: chart.type !== undefined && chart.paintedPixels > 0 }).toEqual({ id: chart.id, drawn: true });
  }
  const byId = new Map(charts.map((c) => [c.id, c]));
  const data = (id: string, label: string) => byId.get(id)?.datasets.find((d) => d.label === label)?.data as number[];
  const closeTo = (values: Array<number | null>) => values.map((v) => (v === null ? null : expect.closeTo(v, 9)));

  for (const [campaign, funnel] of Object.entries(expected.campaigns)) {
    const chart = byId.get(`funnel-${campaign}`);
    expect(chart?.labels).toEqual(['entered', 'sent', 'delivered', 'conversions']);
    const drawn = Object.fromEntries((chart?.datasets ?? []).map((d) => [d.label.replace(' (holdout)', ''), d.data]));
    expect(drawn).toEqual(funnel.funnel);
  }
  expect(byId.get('funnel-onboarding-spring')?.datasets.map((d) => d.label)).toEqual(['A', 'B', 'control (holdout)']);

  // Only onboarding-spring has enough data for a lift.
  expect(byId.get('lift')?.labels).toEqual(['onboarding-spring']);
  expect(data('lift', '95% interval')).toEqual([closeTo(expected.campaigns['onboarding-spring'].ci95)]);
  expect(data('lift', 'lift')).toEqual(closeTo([expected.campaigns['onboarding-spring'].absoluteLift]));

  expect(byId.get('retention-trend')?.labels).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
  expect(data('retention-trend', 'retention rate')).toEqual(closeTo(expected.trend.retentionRate));
  expect(data('retention-trend', 'churn rate')).toEqual(closeTo(expected.trend.churnRate));
  expect(data('satisfaction-trend', 'CSAT')).toEqual(closeTo(expected.trend.csat));
  expect(data('satisfaction-trend', 'NPS')).toEqual(closeTo(expected.trend.nps));

  expect(byId.get('complaint-durations')?.labels).toEqual(['<= 1h', '<= 4h', '<= 1d', '<= 3d', '<= 7d', '> 7d']);
  expect(data('complaint-durations', 'first response')).toEqual(expected.complaints.firstResponse.buckets);
  expect(data('complaint-durations', 'resolution')).toEqual(expected.complaints.resolution.buckets);
}
