import { startTwilioServer, type TwilioFailure, type TwilioMessage } from '../../fakes/twilio-server';
import { KillOnReceipt, numberField, startControlServer, killerHandlers } from './control';
import { appendRecord, readRecords, type SmsRecord } from './records';

/**
 * The Twilio side of the outside world as its own process: the project's Twilio-shaped server on CHAOS_TWILIO_PORT
 * (create, list with To/DateSent filters, fetch), every accepted message appended to CHAOS_RECORDS (JSONL, and
 * listed again after a restart), faults switched on through the control port CHAOS_CONTROL_PORT:
 *   POST /fail-next {count, status}      answer the next `count` Messages requests with 429 (code 20429) or 5xx
 *   POST /kill-on-receipt {pid, count}   record the next `count` messages, SIGKILL `pid`, only then answer
 *   POST /disarm                         forget kill-on-receipt
 */
function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function failure(status: number): TwilioFailure {
  if (status === 429) return { kind: 'error', status, code: 20429, message: 'Too Many Requests' };
  return { kind: 'error', status, code: 20500, message: 'Internal Server Error' };
}

async function main(): Promise<void> {
  const recordsFile = env('CHAOS_RECORDS');
  const killer = new KillOnReceipt();
  const earlier: TwilioMessage[] = readRecords<SmsRecord>(recordsFile).map((r) => ({
    sid: r.sid,
    to: r.to,
    from: r.from,
    messagingServiceSid: null,
    body: r.body,
    createdAt: new Date(r.at),
  }));
  const twilio = await startTwilioServer({
    accountSid: env('CHAOS_TWILIO_ACCOUNT_SID'),
    authToken: env('CHAOS_TWILIO_AUTH_TOKEN'),
    port: Number(env('CHAOS_TWILIO_PORT')),
    messages: earlier,
    async onMessage(message) {
      const pid = killer.take();
      appendRecord(recordsFile, {
        channel: 'sms',
        at: message.createdAt.toISOString(),
        sid: message.sid,
        to: message.to,
        from: message.from,
        body: message.body,
        ...(pid === undefined ? {} : { killedPid: pid }),
      });
      // Keep memory flat: requests are not needed here (messages stay, the list endpoint serves them).
      twilio.requests.length = 0;
      if (pid !== undefined) await KillOnReceipt.kill(pid);
    },
  });
  await startControlServer(Number(env('CHAOS_CONTROL_PORT')), {
    'fail-next': (body) => {
      const count = numberField(body, 'count');
      const status = numberField(body, 'status');
      twilio.failNext(count, failure(status));
      return { failing: count, status };
    },
    ...killerHandlers(killer),
  });
  console.log(`fake twilio listening on ${twilio.url}, control on 127.0.0.1:${env('CHAOS_CONTROL_PORT')}, records ${recordsFile}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
