import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { surveyLink } from '../delivery/survey-token';
import type { JourneyState } from '../shared/journey-types';
import { journeyStateQuery } from '../shared/messages';
import { bulkStart, type BulkStartSummary } from '../triggers/bulk-start';
import type { TriggerContext } from '../triggers/context';
import { complaintWorkflowId, journeyRunId, journeyWorkflowId } from '../triggers/journeys';
import { triggerSchedule, WINBACK_SWEEP_SCHEDULE_ID } from '../triggers/schedules';
import type { DemoApi } from './demo-api';
import { projectRoot } from './paths';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY = 86_400_000;
/** When a survey link the demo makes up (as the message it "answers" would carry) stops working. */
const linkExpiry = (config: AppConfig) => new Date(Date.now() + config.links.surveyValidForMs);

export interface DemoScenarioResult {
  customerIds: string[];
  segment: BulkStartSummary;
  /** Journeys the story drives to an end; the demo waits for their results. */
  finishing: string[];
}

/** Waits until the journey's live state satisfies `ready` (the story reacts to what the journey is doing). */
async function until(client: Client, workflowId: string, ready: (state: JourneyState) => boolean, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await pause(250)) {
    const state = await client.workflow.getHandle(workflowId).query(journeyStateQuery).catch(() => undefined);
    if (state && ready(state)) return;
  }
  throw new Error(`demo: ${workflowId} did not get there within ${timeoutMs / 1000} s`);
}

/** Posts a survey answer through its signed link, retrying while the journey is not yet waiting for it (409). */
async function answerSurvey(api: DemoApi, link: string, fields: Record<string, string>): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await pause(250)) {
    const status = await api.form(link, fields);
    // 202: Temporal was slow to take it; the API's relay delivers the kept answer shortly.
    if (status === 200 || status === 202) return;
    if (status !== 409) throw new Error(`demo: survey answer refused with HTTP ${status}`);
  }
  throw new Error('demo: the survey never opened');
}

/** The sample segment with this run's customer ids, so every demo run has its own customers and journeys. */
async function segmentForRun(config: AppConfig, run: string): Promise<{ file: string; ids: Map<string, string> }> {
  const template = await readFile(path.join(projectRoot, 'campaigns', 'demo', 'segment.csv'), 'utf8');
  const ids = new Map<string, string>();
  const lines = template.trim().split('\n');
  const rows = lines.slice(1).map((line) => {
    const [name, ...rest] = line.split(',');
    ids.set(name as string, `demo-${run}-${name}`);
    return [`demo-${run}-${name}`, ...rest].join(',');
  });
  const file = path.join(config.dataDir, `demo-segment-${run}.csv`);
  await writeFile(file, [lines[0], ...rows].join('\n') + '\n');
  return { file, ids };
}

/**
 * The story the demo tells, through the same doors production uses: the segment is imported over the API and
 * started like `retention start onboarding --csv`; customers act through `POST /customers/:id/events`; the support
 * system opens and resolves a complaint with signed webhooks; customers answer surveys through signed links; the
 * daily win-back schedule is triggered for customers who went quiet.
 */
export async function runDemoScenario(
  ctx: TriggerContext,
  config: AppConfig,
  api: DemoApi,
  run: string,
  log: (line: string) => void,
): Promise<DemoScenarioResult> {
  const { file, ids } = await segmentForRun(config, run);
  const id = (name: string) => ids.get(name) as string;

  const imported = await api.marketer<{ imported: number }>('POST', 'customers/import', await readFile(file, 'utf8'), [200], 'text/csv');
  log(`imported ${imported.imported} customers from the sample segment`);
  const segment = await bulkStart(ctx, { stage: 'onboarding', file, rejectsFile: `${file}.rejects.csv` });
  log(`onboarding started for the segment: ${segment.started} started, ${segment.rejected} rejected`);

  await pause(2500);
  for (const name of ['ada', 'grace', 'katherine']) {
    await api.marketer('POST', `customers/${id(name)}/events`, { type: 'activation' });
  }
  log('Ada, Grace and Katherine activate: their onboarding converts and hands them to nurture');
  for (const name of ['ada', 'grace', 'katherine']) await until(ctx.client, journeyWorkflowId('nurture', id(name)), () => true);
  await api.marketer('POST', `customers/${id('ada')}/events`, { type: 'purchase', amount: 120, orderId: `o-${run}-1` });
  await api.marketer('POST', `customers/${id('grace')}/events`, { type: 'purchase', amount: 640, orderId: `o-${run}-2` });
  log('Ada and Grace buy: nurture adds loyalty points (Grace reaches a higher tier)');

  const ticketId = `T-${run}`;
  await api.support('complaints', { ticketId, customerId: id('linus'), subject: 'Parcel arrived damaged' });
  log(`the support system opens ticket ${ticketId} for Linus (gold: shorter SLA)`);
  const complaint = complaintWorkflowId(ticketId);
  await pause(1500);
  await api.support(`complaints/${ticketId}/events`, { type: 'first-response', note: 'Sorry! A replacement is on its way.' });
  await pause(1500);
  await api.support(`complaints/${ticketId}/events`, { type: 'resolved', note: 'Replacement delivered.' });
  await answerSurvey(api, surveyLink(config.http.publicBaseUrl, config.linkSigningSecret, { workflowId: complaint, runId: await journeyRunId(ctx.client, complaint) }, 'csat', linkExpiry(config)), { rating: '5', comment: 'Quick and kind.' });
  log('Linus rates the complaint handling 5/5 through the survey link');

  const npsScores: [string, number][] = [['ada', 10], ['grace', 9], ['katherine', 8], ['linus', 9], ['alan', 4]];
  for (const [name, score] of npsScores) {
    await api.marketer('POST', `customers/${id(name)}/nps`, { score, responseId: `nps-${run}-${name}` });
  }
  log('the survey tool posts five NPS answers (10, 9, 9 promoters; 8 passive; 4 detractor)');

  const lapsedAt = new Date(Date.now() - 90 * DAY).toISOString();
  for (const name of ['barbara', 'edsger']) {
    await api.marketer('PUT', `customers/${id(name)}`, { lastActivityAt: lapsedAt });
  }
  log('Barbara and Edsger have been quiet for 90 days; the daily win-back schedule is triggered now');
  const sweep = await triggerSchedule(ctx.client, WINBACK_SWEEP_SCHEDULE_ID);
  if (sweep.workflowId) await ctx.client.workflow.getHandle(sweep.workflowId).result();
  const winbackWon = journeyWorkflowId('winback', id('edsger'));
  const winbackLost = journeyWorkflowId('winback', id('barbara'));
  await until(ctx.client, winbackWon, (s) => s.messagesSent >= 1);
  await api.marketer('POST', `customers/${id('edsger')}/events`, { type: 'purchase', amount: 85, orderId: `o-${run}-3` });
  log('Edsger comes back and buys: won back');
  await answerSurvey(api, surveyLink(config.http.publicBaseUrl, config.linkSigningSecret, { workflowId: winbackLost, runId: await journeyRunId(ctx.client, winbackLost) }, 'churn-reason', linkExpiry(config)), { reason: 'too-expensive' });
  log('Barbara does not, and says why in the churn survey: too expensive');

  return {
    customerIds: [...ids.values()],
    segment,
    finishing: [...['alan', 'margaret', 'linus', 'barbara', 'edsger'].map((n) => journeyWorkflowId('onboarding', id(n))), complaint, winbackWon, winbackLost],
  };
}
