import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EmailRecord, SmsRecord } from './fakes/records';
import { readRecords } from './fakes/records';
import { baseEnv, logMatches, nodeTsProcess, type ManagedProcess } from '../../src/dev/supervisor';
import { freePort, sleep } from './util';

/** One fake provider running as its own process, with its fault switchboard and its record of what it accepted. */
export class FakeProvider<R> {
  constructor(
    readonly process: ManagedProcess,
    readonly port: number,
    readonly controlPort: number,
    readonly recordsFile: string,
  ) {}

  /** Runs a control action (`fail-next`, `kill-on-receipt`, `disarm`); retried for a few seconds while the fake starts. */
  async control(action: string, body: Record<string, unknown> = {}): Promise<unknown> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const res = await fetch(`http://127.0.0.1:${this.controlPort}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        const answer: unknown = await res.json();
        if (!res.ok) throw new Error(`${this.process.name} ${action}: HTTP ${res.status} ${JSON.stringify(answer)}`);
        return answer;
      } catch (err) {
        lastError = err;
        await sleep(250);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** Everything accepted so far, across restarts of the fake. */
  records(): R[] {
    return readRecords(this.recordsFile) as R[];
  }
}

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  fromNumber: string;
}

export interface OutsideWorld {
  smtp: FakeProvider<EmailRecord>;
  twilio: FakeProvider<SmsRecord>;
  twilioAccount: TwilioAccount;
  stop(): Promise<void>;
}

const FAKES_DIR = path.join(__dirname, 'fakes');

/** Starts the fake SMTP server and the fake Twilio API, each as a child process writing JSONL into `dir`. */
export async function startOutsideWorld(dir: string, logDir: string): Promise<OutsideWorld> {
  const [smtpPort, smtpControl, twilioPort, twilioControl] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const twilioAccount: TwilioAccount = {
    accountSid: `AC${randomBytes(16).toString('hex')}`,
    authToken: randomBytes(16).toString('hex'),
    fromNumber: '+15005550006',
  };
  const ready = logMatches(/listening on/);
  const smtpRecords = path.join(dir, 'smtp-received.jsonl');
  const twilioRecords = path.join(dir, 'twilio-received.jsonl');
  const smtpProcess = nodeTsProcess({
    name: 'fake-smtp',
    entry: path.join(FAKES_DIR, 'smtp-main.ts'),
    env: { ...baseEnv(), CHAOS_SMTP_PORT: String(smtpPort), CHAOS_CONTROL_PORT: String(smtpControl), CHAOS_RECORDS: smtpRecords },
    logDir,
    ready,
    readyTimeoutMs: 30_000,
  });
  const twilioProcess = nodeTsProcess({
    name: 'fake-twilio',
    entry: path.join(FAKES_DIR, 'twilio-main.ts'),
    env: {
      ...baseEnv(),
      CHAOS_TWILIO_PORT: String(twilioPort),
      CHAOS_CONTROL_PORT: String(twilioControl),
      CHAOS_RECORDS: twilioRecords,
      CHAOS_TWILIO_ACCOUNT_SID: twilioAccount.accountSid,
      CHAOS_TWILIO_AUTH_TOKEN: twilioAccount.authToken,
    },
    logDir,
    ready,
    readyTimeoutMs: 30_000,
  });
  await Promise.all([smtpProcess.start(), twilioProcess.start()]);
  return {
    smtp: new FakeProvider<EmailRecord>(smtpProcess, smtpPort, smtpControl, smtpRecords),
    twilio: new FakeProvider<SmsRecord>(twilioProcess, twilioPort, twilioControl, twilioRecords),
    twilioAccount,
    async stop() {
      await Promise.all([smtpProcess.stop(3000), twilioProcess.stop(3000)]);
    },
  };
}
