import type { Client } from '@temporalio/client';
import { loadCatalog, type CampaignCatalog } from '../campaigns/catalog';
import { UserFacingError } from '../cli-errors';
import type { AppConfig } from '../config';
import { createEmailTransport, type EmailTransportOptions } from '../delivery/email';
import { createSmsTransport, RedirectingRequestClient, TWILIO_REQUEST_TIMEOUT_MS, type SmsTransportOptions } from '../delivery/sms';
import { checkTemplates, createTemplateRenderer, formatProblem } from '../delivery/templates';
import { createStore } from '../store';
import type { JourneyDeps } from './journey';

export interface DepsOverrides {
  email?: EmailTransportOptions;
  smsHttpClient?: SmsTransportOptions['httpClient'];
  templatesDir?: string;
}

/**
 * Opens everything the activities talk to, from the configuration: the store (migrated), the transports, the
 * checked templates and the campaign catalog. A broken template or campaign stops the worker before it polls.
 */
export async function openActivityDeps(
  config: AppConfig,
  client: Client,
  overrides: DepsOverrides = {},
): Promise<{ deps: JourneyDeps; close(): Promise<void> }> {
  const renderer = createTemplateRenderer({ root: overrides.templatesDir ?? config.templatesDir });
  const catalog = await loadCatalog(config.campaignsDir);
  // Every template a campaign names must be there too, or each of its messages would be skipped at send time.
  const problems = await checkTemplates(renderer.root, { required: templatesUsed(catalog) });
  if (problems.length > 0) {
    throw new UserFacingError(`templates have problems (npm run templates:check):\n${problems.map(formatProblem).join('\n')}`);
  }
  const store = await createStore(config.database.url);
  await store.migrate();
  const email = createEmailTransport(config.email, overrides.email);
  const sms = createSmsTransport(config.sms, {
    outboxDir: config.email.outboxDir,
    statusCallbackUrl: new URL('webhooks/twilio/status', `${config.http.publicBaseUrl}/`).toString(),
    httpClient: overrides.smsHttpClient ?? (config.twilioApiUrl ? new RedirectingRequestClient(config.twilioApiUrl, { timeout: TWILIO_REQUEST_TIMEOUT_MS }) : undefined),
  });
  const deps: JourneyDeps = {
    store,
    email,
    sms,
    renderer,
    links: { publicBaseUrl: config.http.publicBaseUrl, secret: config.linkSigningSecret, surveyValidForMs: config.links.surveyValidForMs },
    brandName: config.brandName,
    frequencyCap: config.frequencyCap,
    emailInDoubt: config.emailInDoubt,
    temporal: { client, taskQueue: config.temporal.taskQueue, catalog },
    escalationWebhookUrl: config.escalationWebhookUrl,
  };
  return {
    deps,
    async close() {
      email.close();
      await store.close();
    },
  };
}

/** The template ids the catalog's campaigns send: steps (and their A/B variants), touches, surveys, complaint messages. */
function templatesUsed(catalog: CampaignCatalog): string[] {
  const ids = new Set<string>();
  for (const { definition: d } of catalog.byId.values()) {
    if (d.stage === 'onboarding' || d.stage === 'winback') {
      for (const step of d.steps) [step.template, ...Object.values(step.variantTemplates ?? {})].forEach((id) => ids.add(id));
    }
    if (d.stage === 'winback') ids.add(d.churnSurvey.template);
    if (d.stage === 'nurture') [d.touch.template, d.loyalty.tierUpTemplate, d.anniversary.template].forEach((id) => ids.add(id));
    if (d.stage === 'complaint') Object.values(d.templates).forEach((id) => ids.add(id));
  }
  return [...ids].sort();
}
