import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { JourneyDeps } from '../../src/activities';
import type { CampaignCatalog } from '../../src/campaigns/catalog';
import { createEmailTransport } from '../../src/delivery/email';
import { createSmsTransport, RedirectingRequestClient } from '../../src/delivery/sms';
import { createTemplateRenderer } from '../../src/delivery/templates';
import type { Store } from '../../src/store';
import type { FakeSmtpServer } from '../fakes/smtp-server';
import type { FakeTwilioServer } from '../fakes/twilio-server';

export interface TestJourneyDepsOptions {
  store: Store;
  smtp: FakeSmtpServer;
  twilio: FakeTwilioServer;
  client: Client;
  taskQueue: string;
  catalog: CampaignCatalog;
  /** Scratch folder for the outbox. */
  dir: string;
  publicBaseUrl?: string;
  linkSecret?: string;
  /** How long survey links work (default 30 days). */
  surveyValidForMs?: number;
  /** The clock quiet hours, deadlines and leases are judged by (a time-skipping server's, in journey tests). */
  clock?: () => Promise<number>;
  /** Frequency caps per channel (default: 100 a day on each, so no test is capped unless it asks). */
  frequencyCap?: JourneyDeps['frequencyCap'];
}

/** The activities' real dependencies, wired to the local SMTP and Twilio-shaped servers; caps lifted for tests. */
export function buildTestJourneyDeps(o: TestJourneyDepsOptions): JourneyDeps {
  const publicBaseUrl = o.publicBaseUrl ?? 'https://shop.test';
  const email = createEmailTransport({
    smtpUrl: o.smtp.url,
    from: 'Shop <hello@shop.test>',
    poolSize: 2,
    ratePerSecond: 1000,
    outboxDir: path.join(o.dir, 'outbox'),
  });
  const sms = createSmsTransport(
    { accountSid: o.twilio.accountSid, authToken: o.twilio.authToken, fromNumber: '+15005550006', messagingServiceSid: undefined },
    {
      outboxDir: path.join(o.dir, 'outbox'),
      statusCallbackUrl: `${publicBaseUrl}/webhooks/twilio/status`,
      httpClient: new RedirectingRequestClient(o.twilio.url),
    },
  );
  return {
    store: o.store,
    email,
    sms,
    renderer: createTemplateRenderer(),
    links: { publicBaseUrl, secret: o.linkSecret ?? 'test-secret-test-secret', surveyValidForMs: o.surveyValidForMs ?? 30 * 86_400_000 },
    brandName: 'Shop',
    frequencyCap: o.frequencyCap ?? { email: { max: 100, windowMs: 86_400_000 }, sms: { max: 100, windowMs: 86_400_000 } },
    clock: o.clock,
    temporal: { client: o.client, taskQueue: o.taskQueue, catalog: o.catalog },
  };
}
