import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { QuietWindow } from './quiet-hours';

export type Channel = 'email' | 'sms';

/** The folder given to the worker as CAMPAIGNS_DIR. */
export const CHAOS_CAMPAIGNS_DIR = path.join(__dirname, 'campaigns');

/** The fields of test/chaos/campaigns/onboarding.json the expectations are derived from. */
export interface OnboardingCampaign {
  id: string;
  quietHours?: QuietWindow;
  steps: { id: string; channel?: Channel | 'preferred' }[];
}

export interface ComplaintCampaign {
  id: string;
  quietHours?: QuietWindow;
}

export function readCampaign<T>(stage: 'onboarding' | 'complaint'): T {
  return JSON.parse(readFileSync(path.join(CHAOS_CAMPAIGNS_DIR, `${stage}.json`), 'utf8')) as T;
}

export interface ChaosCustomer {
  id: string;
  name: string;
  email: string;
  phone: string;
  timezone: string;
  preferredChannel: Channel;
  /** The customer's zone is inside the onboarding campaign's quiet hours for the whole run. */
  quiet: boolean;
}

/** One message the outside world should receive exactly once. */
export interface ExpectedMessage {
  customerId: string;
  stage: string;
  step: string;
  channel: Channel;
}

/** `c0001 onboarding/tip-1 sms`: how expected and received messages are matched. */
export function messageLabel(m: { customerId: string; stage: string; step: string; channel: Channel }): string {
  return `${m.customerId} ${m.stage}/${m.step} ${m.channel}`;
}

function channelFor(choice: Channel | 'preferred' | undefined, customer: ChaosCustomer): Channel {
  return choice === undefined || choice === 'preferred' ? customer.preferredChannel : choice;
}

/**
 * What onboarding must deliver, read from the campaign as written: every step in order on its channel; a customer
 * whose zone is inside the campaign's quiet hours for the whole run gets the steps before the first SMS, which
 * waits for the end of the quiet hours (and everything after it with it).
 */
export function expectedOnboarding(campaign: OnboardingCampaign, customers: ChaosCustomer[]): ExpectedMessage[] {
  const expected: ExpectedMessage[] = [];
  for (const customer of customers) {
    for (const step of campaign.steps) {
      const channel = channelFor(step.channel, customer);
      if (channel === 'sms' && campaign.quietHours && customer.quiet) break;
      expected.push({ customerId: customer.id, stage: 'onboarding', step: step.id, channel });
    }
  }
  return expected;
}

/**
 * What complaint resolution must deliver for one ticket given the support updates sent (in order): the
 * acknowledgement, one `update-<n>` message per update that is not the resolution, the resolution, the CSAT survey.
 */
export function expectedComplaint(customer: ChaosCustomer, updates: { type: string }[]): ExpectedMessage[] {
  const steps = ['acknowledge'];
  let n = 0;
  for (const update of updates) {
    if (update.type === 'resolved') break;
    steps.push(`update-${++n}`);
  }
  steps.push('resolved', 'csat-survey');
  return steps.map((step) => ({ customerId: customer.id, stage: 'complaint', step, channel: customer.preferredChannel }));
}
