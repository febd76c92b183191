import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { loadConfig, type AppConfig, type Env } from '../../src/config';
import type { Channel } from '../../src/shared/journey-types';
import { startJourney } from '../../src/triggers/journeys';
import { createStore } from '../../src/store';
import { openProductionWorker, type ProductionWorker } from '../../src/workers/production-worker';
import { header } from '../delivery/mail-headers';
import { startSmtpServer, type FakeSmtpServer } from '../fakes/smtp-server';
import { startTwilioServer, type FakeTwilioServer } from '../fakes/twilio-server';
import { HARNESS_ENV } from '../harness/env';
import { seedCustomer } from '../journeys/journey-env';

const HOUR = 3_600_000;

/** The worker as `src/workers/main.ts` starts it from a configuration; stopped by `close`. */
async function startAsMain(config: AppConfig): Promise<ProductionWorker> {
  const opened = await openProductionWorker(config);
  return {
    ...opened,
    async close() {
      // A worker holds its connection until it has run (and shut down).
      if (opened.worker.getState() === 'INITIALIZED') await opened.worker.runUntil(Promise.resolve());
      await opened.close();
    },
  };
}

/** A complaint campaign (no quiet hours: its SMS goes at any hour), optionally using another update template. */
const complaintCampaign = (update = 'complaint/update') => ({
  id: 'wiring-complaint',
  version: 1,
  stage: 'complaint',
  sla: { firstResponse: '4 hours', resolution: '3 days' },
  coreSla: { firstResponse: '1 hour', resolution: '1 day' },
  templates: {
    acknowledge: 'complaint/acknowledge',
    update,
    escalated: 'complaint/escalated',
    resolved: 'complaint/resolved',
    survey: 'complaint/csat-survey',
    recovery: 'complaint/recovery',
  },
  csat: { timeout: '3 days' },
  recoveryOffer: { discountPercent: 20, validFor: '30 days' },
});

async function campaignsDir(definition: object): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wiring-campaigns-'));
  await writeFile(path.join(dir, 'complaint.json'), JSON.stringify(definition));
  return dir;
}

describe('production wiring: configuration -> openActivityDeps -> createWorker', () => {
  let smtp: FakeSmtpServer;
  let twilio: FakeTwilioServer;
  let goodCampaigns: string;
  const taskQueue = `wiring-${randomUUID()}`;

  /** The environment a deploy would set, as the worker reads it (nothing from process.env but the harness's server). */
  const environment = async (overrides: Env = {}): Promise<Env> => ({
    TEMPORAL_ADDRESS: process.env[HARNESS_ENV.devServerAddress],
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: process.env[HARNESS_ENV.workflowBundle],
    DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'wiring-data-')),
    CAMPAIGNS_DIR: goodCampaigns,
    SMTP_URL: smtp.url,
    SMTP_FROM: 'Wiring Co <news@wiring.test>',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM_NUMBER: '+15005550006',
    TWILIO_API_URL: twilio.url,
    PUBLIC_BASE_URL: 'https://retention.example.org/',
    BRAND_NAME: 'Wiring Co',
    FREQUENCY_CAP_EMAIL: '2',
    FREQUENCY_CAP_SMS: '1',
    FREQUENCY_CAP_WINDOW: '1 day',
    ...overrides,
  });

  beforeAll(async () => {
    [smtp, twilio, goodCampaigns] = await Promise.all([startSmtpServer(), startTwilioServer(), campaignsDir(complaintCampaign())]);
  });
  afterAll(async () => {
    await Promise.allSettled([smtp?.close(), twilio?.close()]);
  });

  describe('a worker started from the configuration', () => {
    let env: Env;
    let started: Awaited<ReturnType<typeof startAsMain>>;
    beforeAll(async () => {
      env = await environment();
      started = await startAsMain(loadConfig(env));
    });
    afterAll(async () => {
      await started?.close();
    });

    it('runs journeys that send through the configured SMTP server and Twilio URL, SMS with the status callback under PUBLIC_BASE_URL', async () => {
      const { store } = started.deps;
      const bySms = await seedCustomer(store, { preferredChannel: 'sms' });
      const byEmail = await seedCustomer(store, { preferredChannel: 'email' });
      const journeys: string[] = [];
      await started.worker.runUntil(async () => {
        for (const customer of [bySms, byEmail]) {
          const { workflowId } = await startJourney(started.deps.temporal.client, started.deps.temporal.catalog, taskQueue, {
            stage: 'complaint',
            customerId: customer.id,
            ticket: { id: `W-${randomUUID()}` },
          });
          journeys.push(workflowId);
        }
        const deadline = Date.now() + 20_000;
        while (!(twilio.messages.some((m) => m.to === bySms.phone) && smtp.messages.some((m) => m.envelope.to.includes(byEmail.email as string)))) {
          if (Date.now() > deadline) throw new Error('the acknowledgements did not arrive');
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const id of journeys) await started.deps.temporal.client.workflow.getHandle(id).terminate('test finished');
      });

      const [sms, ...more] = twilio.requests.filter((r) => r.form.To === bySms.phone);
      expect(more).toEqual([]);
      expect(sms).toMatchObject({
        method: 'POST',
        path: `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`,
        auth: { username: twilio.accountSid, password: twilio.authToken },
        form: { To: bySms.phone, From: '+15005550006', StatusCallback: 'https://retention.example.org/webhooks/twilio/status' },
      });
      expect(sms?.form.Body).toMatch(/^Wiring Co: /);

      const mail = smtp.messages.find((m) => m.envelope.to.includes(byEmail.email as string));
      expect(mail?.envelope.from).toBe('news@wiring.test');
      expect(header(mail?.raw ?? '', 'List-Unsubscribe')).toMatch(/^<https:\/\/retention\.example\.org\/unsubscribe\?c=/);

      // The store is the one DATABASE_URL defaults to: DATA_DIR/retention.sqlite.
      const sameFile = await createStore(`sqlite:${path.join(env.DATA_DIR as string, 'retention.sqlite')}`);
      try {
        for (const workflowId of journeys) expect((await sameFile.listOutcomes({ workflowId, status: 'sent' })).map((o) => o.step)).toEqual(['acknowledge']);
      } finally {
        await sameFile.close();
      }
    });

    it('enforces the frequency caps and the window configured (2 emails, 1 SMS a day)', async () => {
      let now = Date.now();
      // The product's deps on a clock the test moves: a day passes in no time.
      const { sendMessage } = createActivities({ ...started.deps, clock: async () => now });
      const customer = await seedCustomer(started.deps.store);
      let step = 0;
      const send = (channel: Channel) => {
        step++;
        return sendMessage({
          workflowId: `wiring-caps-${customer.id}`,
          runId: 'run-1',
          stepId: `update-${step}`,
          customerId: customer.id,
          stage: 'complaint',
          campaignId: 'wiring-complaint',
          step: `update-${step}`,
          variant: 'control',
          holdout: false,
          channel,
          fallback: false,
          templateId: 'complaint/update',
          extras: { ticket: { id: 'W-1', status: 'open' } },
          whenCapped: 'skip',
        });
      };
      const capped = (channel: Channel) => ({ status: 'skipped', reason: 'frequency-cap', channel });

      expect(await send('email')).toMatchObject({ status: 'sent', channel: 'email' });
      expect(await send('email')).toMatchObject({ status: 'sent', channel: 'email' });
      expect(await send('email')).toEqual(capped('email'));
      expect(await send('sms')).toMatchObject({ status: 'sent', channel: 'sms' });
      expect(await send('sms')).toEqual(capped('sms'));

      now += 23 * HOUR;
      expect(await send('email')).toEqual(capped('email'));
      expect(await send('sms')).toEqual(capped('sms'));
      // A day after the first sends they have left the window (the default window is 7 days).
      now += HOUR + 1_000;
      expect(await send('email')).toMatchObject({ status: 'sent', channel: 'email' });
      expect(await send('sms')).toMatchObject({ status: 'sent', channel: 'sms' });
    });
  });

  describe('refuses to start', () => {
    /** Why the worker would not start; a worker that does start is stopped and fails the test. */
    const refusal = async (config: AppConfig): Promise<string> => {
      let started: Awaited<ReturnType<typeof startAsMain>>;
      try {
        started = await startAsMain(config);
      } catch (err) {
        return (err as Error).message;
      }
      await started.close();
      throw new Error('the worker started');
    };

    it('on a template that does not parse, naming the file and line', async () => {
      const templates = await mkdtemp(path.join(os.tmpdir(), 'wiring-templates-'));
      await cp(path.resolve('templates'), templates, { recursive: true });
      const broken = path.join(templates, 'complaint', 'update.sms.liquid');
      const source = await readFile(broken, 'utf8');
      await writeFile(broken, `${source}{% if ticket %}`);
      const line = source.split('\n').length; // the unclosed tag starts on the last line
      const config = loadConfig(await environment({ TEMPLATES_DIR: templates }));
      expect(await refusal(config)).toContain(`templates have problems (npm run templates:check):\n${broken}:${line}: syntax error`);
    });

    it('when a campaign sends a template that does not exist, naming it', async () => {
      const config = loadConfig(await environment({ CAMPAIGNS_DIR: await campaignsDir(complaintCampaign('complaint/update-v2')) }));
      const message = await refusal(config);
      expect(message).toMatch(/^templates have problems/);
      expect(message).toContain(`${path.resolve('templates', 'complaint', 'update-v2.sms.liquid')}:1: missing template: required complaint/update-v2 has no sms part`);
    });
  });
});
