import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runBurst, type FaultContext } from '../burst';
import type { RunContext, Scenario, ScenarioResult } from '../result';
import type { InDoubtPolicy } from '../stack';
import { startTemporal } from '../temporal';
import { progress, waitUntil } from '../util';

const NAME = 'in-doubt';

/** Arms `provider` to SIGKILL the worker on its next receipt, then waits until the keeper has it back. */
async function killOnReceipt(f: FaultContext, provider: 'smtp' | 'twilio', label: string): Promise<void> {
  const pid = f.stack.worker.pid;
  if (pid === undefined) throw new Error('no worker running to arm the kill with');
  await f.stack.world[provider].control('kill-on-receipt', { pid, count: 1 });
  const killed = await waitUntil(() => f.stack.worker.pid !== pid, 90_000);
  if (!killed) {
    await f.stack.world[provider].control('disarm');
    f.note(`${label}: no ${provider} message arrived to kill the worker on`);
    return;
  }
  progress(`${label}: the fake ${provider} SIGKILLed the worker on receipt`);
  f.note(`fake ${provider} recorded a message, SIGKILLed the worker (pid ${pid}) and only then answered`);
  await waitUntil(() => f.stack.worker.ready, 90_000);
}

function policyRun(ctx: RunContext, policy: InDoubtPolicy, temporal: Awaited<ReturnType<typeof startTemporal>>): Promise<ScenarioResult> {
  const name = `${NAME}-${policy}`;
  return runBurst(ctx, {
    name,
    journeys: Math.max(10, Math.round(ctx.journeys / 6)),
    deadlineMs: 300_000,
    emailInDoubt: policy,
    temporal,
    async fault(f) {
      await f.whenReceived(0.05, 60_000);
      await killOnReceipt(f, 'smtp', name);
      await killOnReceipt(f, 'twilio', name);
      f.note(
        policy === 'resend'
          ? 'EMAIL_IN_DOUBT=resend: an email accepted in the kill window may be sent again with the same Message-ID (counted as inDoubt)'
          : 'EMAIL_IN_DOUBT=hold: an email in doubt is held for a person (a held one not received counts as inDoubt); SMS are looked up at Twilio',
      );
    },
  });
}

/**
 * (7) The in-doubt window itself: the fake provider accepts a message and SIGKILLs the worker before answering
 * (first an email, then an SMS), under each EMAIL_IN_DOUBT policy, both on one dev server at the same time.
 */
async function run(ctx: RunContext): Promise<ScenarioResult[]> {
  const dir = path.join(ctx.runDir, NAME);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const temporal = await startTemporal(dir, logDir);
  try {
    return await Promise.all([policyRun(ctx, 'resend', temporal), policyRun(ctx, 'hold', temporal)]);
  } finally {
    await temporal.stop();
  }
}

export const inDoubt: Scenario = {
  name: NAME,
  description: 'worker SIGKILLed by the fake provider on receipt (email, then SMS), under EMAIL_IN_DOUBT=resend and =hold',
  run,
};
