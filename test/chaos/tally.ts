import { messageLabel, type Channel, type ChaosCustomer, type ExpectedMessage } from './campaigns';
import type { EmailRecord, SmsRecord } from './fakes/records';
import { isQuietAt, type QuietWindow } from './quiet-hours';
import { stepTag } from './templates';

/** A stretch of time in which the provider may have accepted a message its sender never heard about. */
export interface InDoubtWindow {
  from: number;
  to: number;
  cause: string;
}

export interface TallyInput {
  customers: ChaosCustomer[];
  expected: ExpectedMessage[];
  email: EmailRecord[];
  sms: SmsRecord[];
  /** Quiet hours of each stage's campaign (only onboarding has them in the chaos campaigns). */
  quietHours: Partial<Record<string, QuietWindow>>;
  /** EMAIL_IN_DOUBT of the worker. */
  policy: 'resend' | 'hold';
  windows: InDoubtWindow[];
  /** `<customer> <stage>/<step>` of sends the store holds as in doubt (policy hold): missing there is the policy. */
  held?: Set<string>;
  /** Customers whose journey was still running at the deadline (outside quiet hours): their missing are unfinished. */
  stillRunning?: Set<string>;
}

export interface Tally {
  expected: number;
  delivered: number;
  duplicates: number;
  missing: number;
  inDoubt: number;
  quietHourViolations: number;
  /** Received but not expected at all (another step, another channel, unreadable). */
  unexpected: number;
  /** Of `missing`: those of journeys still running at the deadline (slow rather than lost). */
  unfinished: number;
  duplicateKeys: string[];
  missingLabels: string[];
  inDoubtKeys: string[];
  unexpectedLabels: string[];
  quietViolations: string[];
}

interface Receipt {
  label: string | undefined;
  /** Email: everything between '<' and '@' of the Message-ID; SMS: To and Body. */
  key: string;
  at: number;
  channel: Channel;
  customer: ChaosCustomer | undefined;
  stage: string | undefined;
  describe: string;
}

/** The Message-ID's key, read leniently: whatever stands between '<' and '@' (today `<workflowId>.<stepId>`). */
export function messageKey(messageId: string): string {
  const match = /<([^@>]*)@/.exec(messageId);
  return match?.[1] ?? messageId.trim();
}

function receipts(input: TallyInput): Receipt[] {
  const byEmail = new Map(input.customers.map((c) => [c.email.toLowerCase(), c]));
  const byPhone = new Map(input.customers.map((c) => [c.phone, c]));
  const out: Receipt[] = [];
  const make = (channel: Channel, customer: ChaosCustomer | undefined, tag: string | undefined, key: string, at: string, describe: string) => {
    const [stage, step] = tag?.split('/') ?? [];
    const label = customer && stage && step ? messageLabel({ customerId: customer.id, stage, step, channel }) : undefined;
    out.push({ label, key, at: Date.parse(at), channel, customer, stage, describe });
  };
  for (const r of input.email) {
    make('email', byEmail.get((r.to[0] ?? '').toLowerCase()), stepTag(r.subject), messageKey(r.messageId), r.at, `email to ${r.to.join(',')} "${r.subject.slice(0, 60)}"`);
  }
  for (const r of input.sms) make('sms', byPhone.get(r.to), stepTag(r.body), `${r.to}|${r.body}`, r.at, `sms to ${r.to} "${r.body.slice(0, 60)}"`);
  return out;
}

function inWindow(at: number, windows: InDoubtWindow[]): InDoubtWindow | undefined {
  return windows.find((w) => at >= w.from && at <= w.to);
}

/**
 * Counts what the outside world received against what it should have: each expected message exactly once.
 * Extra copies are duplicates, except where the in-doubt policy says so: with `resend`, an email first received
 * inside an in-doubt window and received again with the same Message-ID is in doubt (the policy's stated cost);
 * with `hold`, a missing message the store holds as in doubt is in doubt. SMS are never excused: the worker can ask
 * Twilio whether one went out. `inDoubt` counts what the policy left in doubt: resent copies (resend), held sends
 * whether or not they had gone out (hold).
 */
/** The counts of a scenario before anything was counted. */
export function emptyFigures() {
  return { expected: 0, delivered: 0, duplicates: 0, missing: 0, inDoubt: 0, quietHourViolations: 0, unexpected: 0, unfinished: 0 };
}

export function tally(input: TallyInput): Tally {
  const expectedLabels = new Set(input.expected.map(messageLabel));
  const byLabel = new Map<string, Receipt[]>();
  const result: Tally = {
    ...emptyFigures(),
    expected: expectedLabels.size,
    duplicateKeys: [],
    missingLabels: [],
    inDoubtKeys: [],
    unexpectedLabels: [],
    quietViolations: [],
  };
  for (const r of receipts(input)) {
    const quiet = r.stage ? input.quietHours[r.stage] : undefined;
    if (r.channel === 'sms' && r.customer && quiet && isQuietAt(r.at, r.customer.timezone, quiet)) {
      result.quietHourViolations++;
      result.quietViolations.push(`${r.label ?? r.describe} at ${new Date(r.at).toISOString()} (${r.customer.timezone})`);
    }
    if (!r.label || !expectedLabels.has(r.label)) {
      result.unexpected++;
      result.unexpectedLabels.push(r.label ?? r.describe);
      continue;
    }
    byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  }
  for (const label of expectedLabels) {
    const got = (byLabel.get(label) ?? []).sort((a, b) => a.at - b.at);
    const first = got[0];
    if (!first) {
      const [customerId, stageStep] = label.split(' ');
      if (input.policy === 'hold' && input.held?.has(`${customerId} ${stageStep}`)) {
        result.inDoubt++;
        result.inDoubtKeys.push(`${label} (held, not received)`);
      } else {
        result.missing++;
        const running = input.stillRunning?.has(customerId ?? '') ?? false;
        if (running) result.unfinished++;
        result.missingLabels.push(running ? `${label} (journey still running)` : label);
      }
      continue;
    }
    result.delivered++;
    const [customerId, stageStep] = label.split(' ');
    if (input.policy === 'hold' && input.held?.has(`${customerId} ${stageStep}`)) {
      result.inDoubt++;
      result.inDoubtKeys.push(`${label} (held in the store as in doubt; the provider received it ${got.length}x)`);
    }
    const extra = got.length - 1;
    if (extra === 0) continue;
    const sameKey = got.every((r) => r.key === first.key);
    const window = inWindow(first.at, input.windows);
    const keys = [...new Set(got.map((r) => r.key))];
    const what = `${label} x${got.length} (${sameKey ? `same key ${first.key}` : `keys ${keys.join(' | ')}`})`;
    if (first.channel === 'email' && input.policy === 'resend' && sameKey && window) {
      result.inDoubt += extra;
      result.inDoubtKeys.push(`${what}, first received in the in-doubt window of ${window.cause}`);
    } else {
      result.duplicates += extra;
      result.duplicateKeys.push(window ? `${what}, first received in the in-doubt window of ${window.cause}` : what);
    }
  }
  return result;
}
