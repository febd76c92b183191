import { startSmtpServer } from '../../fakes/smtp-server';
import { KillOnReceipt, numberField, startControlServer, killerHandlers } from './control';
import { appendRecord, mailHeader } from './records';

/**
 * The SMTP side of the outside world as its own process (so it can be stopped and restarted): the project's fake
 * SMTP server on CHAOS_SMTP_PORT, every accepted message appended to CHAOS_RECORDS (JSONL), faults switched on
 * through the control port CHAOS_CONTROL_PORT:
 *   POST /fail-next {count, code}        answer the next `count` messages with `code` (421, 451...) at the end of DATA
 *   POST /kill-on-receipt {pid, count}   record the next `count` messages, SIGKILL `pid`, only then answer
 *   POST /disarm                         forget kill-on-receipt
 */
function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const recordsFile = env('CHAOS_RECORDS');
  const killer = new KillOnReceipt();
  const smtp = await startSmtpServer({
    port: Number(env('CHAOS_SMTP_PORT')),
    async onMessage(mail) {
      const pid = killer.take();
      appendRecord(recordsFile, {
        channel: 'email',
        at: mail.receivedAt.toISOString(),
        from: mail.envelope.from,
        to: mail.envelope.to,
        messageId: mailHeader(mail.raw, 'message-id'),
        subject: mailHeader(mail.raw, 'subject'),
        sessionId: mail.sessionId,
        ...(pid === undefined ? {} : { killedPid: pid }),
      });
      // Keep memory flat over long runs: the JSONL file is the record.
      smtp.messages.length = 0;
      if (pid !== undefined) await KillOnReceipt.kill(pid);
    },
  });
  await startControlServer(Number(env('CHAOS_CONTROL_PORT')), {
    'fail-next': (body) => {
      const count = numberField(body, 'count');
      const code = numberField(body, 'code');
      smtp.failNextMessages(count, code);
      return { failing: count, code };
    },
    ...killerHandlers(killer),
  });
  console.log(`fake smtp listening on ${smtp.url}, control on 127.0.0.1:${env('CHAOS_CONTROL_PORT')}, records ${recordsFile}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
