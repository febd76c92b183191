import { runBurst } from '../burst';
import type { Scenario } from '../result';
import { progress, sleep } from '../util';

const DOWN_MS = 30_000;
/** Each burst of 4xx replies is this share of the emails the burst sends. */
const SHARE = 0.1;

/** (3) The SMTP server is down for 30 s mid-burst, then answers 421 and 451 to bursts of messages. */
export const smtpOutage: Scenario = {
  name: 'smtp-outage',
  description: 'SMTP server down 30 s, then 421 and 451 bursts',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'smtp-outage',
      deadlineMs: 300_000,
      async fault(f) {
        const smtp = f.stack.world.smtp;
        const replyBurst = Math.max(3, Math.ceil(SHARE * f.expected.filter((m) => m.channel === 'email').length));
        await f.whenReceived(0.1, 60_000);
        const at = f.received();
        await smtp.process.kill();
        const downAt = Date.now();
        f.openWindow('SMTP server SIGKILL', downAt);
        progress(`smtp-outage: SMTP server stopped after ${at} messages, down for ${DOWN_MS / 1000} s`);
        await sleep(DOWN_MS);
        await smtp.process.start();
        await smtp.control('fail-next', { count: replyBurst, code: 421 });
        await smtp.control('fail-next', { count: replyBurst, code: 451 });
        progress(`smtp-outage: SMTP server back; the next ${replyBurst} messages get 421, the ${replyBurst} after them 451`);
        f.note(`SMTP server SIGKILLed after ${at} messages, down ${DOWN_MS / 1000} s; then ${replyBurst} x 421 and ${replyBurst} x 451 at end of DATA`);
      },
    }),
};
