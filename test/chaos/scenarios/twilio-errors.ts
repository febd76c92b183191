import { runBurst } from '../burst';
import type { Scenario } from '../result';
import { progress } from '../util';

/** Each burst of errors is this share of the SMS the burst sends (so retries stay a few per message, whatever the size). */
const SHARE = 0.3;

/** (4) The Twilio API answers 429 to a burst of requests from the start, and 500 to another burst mid-way. */
export const twilioErrors: Scenario = {
  name: 'twilio-errors',
  description: 'Twilio 429 and 500 bursts',
  run: (ctx) =>
    runBurst(ctx, {
      name: 'twilio-errors',
      deadlineMs: 300_000,
      async fault(f) {
        const twilio = f.stack.world.twilio;
        const burst = Math.max(3, Math.ceil(SHARE * f.expected.filter((m) => m.channel === 'sms').length));
        await twilio.control('fail-next', { count: burst, status: 429 });
        progress(`twilio-errors: the next ${burst} Twilio requests get 429`);
        await f.whenReceived(0.4, 60_000);
        await twilio.control('fail-next', { count: burst, status: 500 });
        progress(`twilio-errors: after ${f.received()} messages, the next ${burst} Twilio requests get 500`);
        f.note(`Twilio: ${burst} x 429 from the start, ${burst} x 500 after 40% of the messages`);
      },
    }),
};
