import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { REPORT_STAGES, type Report } from '../../src/reports/types';
import { registerReportCommand } from '../../src/triggers/cli/report';
import { backends, storeFixture } from '../store/backends';

const [, openSqlite] = backends[0] as (typeof backends)[number];
const run = promisify(execFile);

describe('retention report (CLI)', () => {
  const fixture = storeFixture(openSqlite);

  beforeAll(async () => {
    const store = fixture.store;
    await store.upsertCustomer({ id: 'ada', name: 'Ada' });
    await store.kysely.updateTable('customers').set({ created_at: Date.parse('2025-01-01T00:00:00Z') }).where('id', '=', 'ada').execute();
    const base = { customerId: 'ada', stage: 'onboarding', campaignId: 'welcome, "v2"', workflowId: 'onboarding-ada', variant: 'A', holdout: false, step: 'welcome' };
    await store.recordOutcome({ ...base, status: 'entered', occurredAt: new Date('2025-03-02T10:00:00Z') });
    await store.recordOutcome({ ...base, status: 'sent', channel: 'email', occurredAt: new Date('2025-03-02T10:00:01Z') });
    await store.recordOutcome({ ...base, status: 'converted', occurredAt: new Date('2025-03-04T10:00:00Z') });
  });

  async function report(...args: string[]): Promise<string> {
    let out = '';
    const program = new Command('retention').exitOverride();
    registerReportCommand(program, { write: (text) => (out += text), databaseUrl: () => fixture.url });
    await program.parseAsync(['report', ...args], { from: 'user' });
    return out;
  }

  it('prints the Report object as JSON', async () => {
    const parsed = JSON.parse(await report('--from', '2025-03-01', '--to', '2025-04-01', '--format', 'json')) as Report;
    expect(parsed.query).toEqual({ from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' });
    expect(parsed.retention).toMatchObject({ customersAtStart: 1, lost: 0 });
    expect(parsed.campaigns).toEqual([
      expect.objectContaining({ campaignId: 'welcome, "v2"', stage: 'onboarding', variants: [expect.objectContaining({ variant: 'A', entered: 1, sent: 1, conversions: 1 })] }),
    ]);
  });

  it('prints readable tables by default', async () => {
    const text = await report('--from', '2025-03-01', '--to', '2025-04-01T00:00:00Z');
    expect(text).toContain('Retention report 2025-03-01T00:00:00.000Z .. 2025-04-01T00:00:00.000Z');
    expect(text).toMatch(/churn rate\s+0\.0% \(0\/1\)/);
    expect(text).toContain('Campaign welcome, "v2" (onboarding)');
    // variant, entered, sent, delivered, failed, skipped, in doubt, conversions, rate
    expect(text).toMatch(/^variant\s+entered\s+sent\s+delivered\s+failed\s+skipped\s+in doubt\s+conversions\s+rate$/m);
    expect(text).toMatch(/^A\s+1\s+1\s+0\s+0\s+0\s+0\s+1\s+100\.0%$/m);
    expect(text).toContain('lift: not enough data');
  });

  it('prints one figure per CSV line, quoting fields that need it', async () => {
    const csv = await report('--from', '2025-03-01', '--to', '2025-04-01', '--format', 'csv', '--stage', 'onboarding');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('section,subject,metric,value');
    expect(lines).toContain('retention,all,customersAtStart,1');
    expect(lines).toContain('campaign,"welcome, ""v2""/A",sent,1');
    expect(lines).toContain('campaign,"welcome, ""v2""/lift",enoughData,false');
  });

  it.each([
    [['--from', 'yesterday'], /^--from: expected a date such as 2025-01-31 or 2025-01-31T12:00:00Z, got "yesterday"$/],
    [['--from', '2025-02-30'], /^--from: expected a date/],
    [['--from', '2025-04-01', '--to', '2025-03-01'], /^--from: must be before to/],
    [['--from', '0001-01-01', '--to', '9999-12-31'], /^--from: expected a period of at most 10 years/],
    [['--stage', 'onbording'], new RegExp(`^--stage: expected one of ${REPORT_STAGES.join(', ')}, got "onbording"$`)],
    [['--format', 'xml'], /^--format: expected one of table, json, csv, got "xml"$/],
  ])('refuses %p naming the option', async (args, message) => {
    await expect(report(...args)).rejects.toThrow(message);
  });

  it('exits 0 with the table, and 1 with one line naming a bad option, as a process', async () => {
    const main = path.resolve('test/reports/report-cli-main.ts');
    const tsx = path.resolve('node_modules/.bin/tsx');
    const env = { ...process.env, DATABASE_URL: fixture.url };
    const ok = await run(tsx, [main, 'report', '--from', '2025-03-01', '--to', '2025-04-01'], { env });
    expect(ok.stdout).toContain('Retention report');
    const failed = await run(tsx, [main, 'report', '--format', 'xml'], { env }).then(
      () => undefined,
      (err: { code: number; stderr: string; stdout: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim().split('\n')).toEqual(['error: --format: expected one of table, json, csv, got "xml"']);
    expect(failed?.stdout).toBe('');
  }, 60_000);
});
