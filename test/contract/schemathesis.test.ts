import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureSchemathesis } from '../../src/dev/schemathesis';
import { API_TOKEN, PUBLIC_BASE_URL, startApiKit, SUPPORT_SECRET, type ApiKit } from '../http/api-kit';

/**
 * The API against its own OpenAPI document, checked from outside by schemathesis (PyPI): every check, every phase
 * (examples, coverage, fuzzing, and the stateful phase that follows the document's links), against a live API on the
 * embedded stack with a worker running the journeys it starts. Zero failures is the bar (issue 12).
 * test/contract/hooks.py signs the support webhooks and keeps the rules a JSON Schema cannot state.
 */
const SEED = '20261207';
const TWILIO_AUTH_TOKEN = 'contract-twilio-auth-token-0123456789';
const MAX_EXAMPLES = '40';

interface Run {
  code: number;
  output: string;
}

/** Runs `st` in `cwd` (its cache and reports stay out of the repository). */
function runSchemathesis(st: string, cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      st,
      ['--config-file', path.join(__dirname, 'schemathesis.toml'), ...args],
      {
        cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          PYTHONPATH: __dirname,
          SCHEMATHESIS_HOOKS: 'hooks',
          API_TOKEN,
          SUPPORT_WEBHOOK_SECRET: SUPPORT_SECRET,
          TWILIO_AUTH_TOKEN,
          PUBLIC_BASE_URL,
          NO_COLOR: '1',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
    );
  });
}

describe('the API against its OpenAPI document (schemathesis)', () => {
  let kit: ApiKit;
  let st: string;

  beforeAll(async () => {
    st = await ensureSchemathesis();
    // The fuzzer sends thousands of requests from one address, many without credentials on purpose: the limiters stay
    // on, above what one run sends (test/http/rate-limits.test.ts tests them). Twilio is configured, so its webhooks
    // are served and tested too.
    kit = await startApiKit({
      worker: true,
      env: {
        RATE_LIMIT_FAILED_AUTH: '1000000',
        RATE_LIMIT_LINKS: '1000000',
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(31)}1`,
        TWILIO_AUTH_TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
      },
    });
  }, 300_000);

  afterAll(async () => {
    await kit?.close();
  });

  it('passes every check in every phase, stateful included', async () => {
    const base = await kit.listen();
    const reports = await mkdtemp(path.join(os.tmpdir(), 'schemathesis-'));
    const run = await runSchemathesis(st, reports, [
      'run',
      `${base}/openapi.json`,
      // The document names PUBLIC_BASE_URL as its server; the requests go to this instance.
      '--url',
      base,
      '--checks',
      'all',
      '--phases',
      'examples,coverage,fuzzing,stateful',
      '--max-examples',
      MAX_EXAMPLES,
      '--seed',
      SEED,
      '--workers',
      '1',
      '--report',
      'junit',
      '--report-junit-path',
      path.join(reports, 'junit.xml'),
    ]);
    const junit = await readFile(path.join(reports, 'junit.xml'), 'utf8');
    const failures = [...junit.matchAll(/<failure[^>]*message="([^"]*)"/g)].map((match) => match[1]);
    if (run.code !== 0) console.log(run.output.split('\n').slice(-150).join('\n'));
    expect({ exitCode: run.code, failures }).toEqual({ exitCode: 0, failures: [] });
    // Every operation of the document was tested and the stateful phase ran (a run that tested nothing passes too).
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((count, item) => count + Object.keys(item).length, 0);
    expect(operations).toBeGreaterThanOrEqual(23);
    expect(Number(/Tested: (\d+)/.exec(run.output)?.[1])).toBe(operations);
    expect(run.output).toMatch(/✅ Stateful/);
  }, 900_000);
});
