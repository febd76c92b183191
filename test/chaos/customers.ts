import type { ApiClient } from './api-client';
import { expectStatus } from './api-client';
import type { Channel, ChaosCustomer } from './campaigns';
import type { ZoneSplit } from './quiet-hours';

export interface CustomerMix {
  /** Every n-th customer lives in a zone inside quiet hours (when one exists); 0 for none. */
  quietEvery: number;
  /** Every n-th customer prefers SMS; 0 for none. */
  smsEvery: number;
}

/** `count` customers with unique addresses; time zones from `zones` as the mix says. */
export function makeCustomers(prefix: string, count: number, zones: ZoneSplit, mix: CustomerMix): ChaosCustomer[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(4, '0')}`;
    const quiet = mix.quietEvery > 0 && i % mix.quietEvery === 0 && zones.quiet.length > 0;
    const pool = quiet ? zones.quiet : zones.open;
    const timezone = pool.length > 0 ? (pool[i % pool.length] as string) : 'UTC';
    const preferredChannel: Channel = mix.smsEvery > 0 && i % mix.smsEvery === 1 ? 'sms' : 'email';
    return {
      id,
      name: `Chaos ${i}`,
      email: `${id}@chaos.test`,
      phone: `+1555${String(1_000_000 + i).padStart(7, '0')}`,
      timezone,
      preferredChannel,
      quiet,
    };
  });
}

/** Imports the customers through `POST /customers/import`, 1000 a request. */
export async function importCustomers(client: ApiClient, customers: ChaosCustomer[]): Promise<void> {
  for (let i = 0; i < customers.length; i += 1000) {
    const batch = customers.slice(i, i + 1000).map((c) => ({
      id: c.id,
      name: c.name,
      email: c.email,
      phone: c.phone,
      timezone: c.timezone,
      preferredChannel: c.preferredChannel,
      consentEmail: true,
      consentSms: true,
    }));
    const answer = expectStatus(await client.request('POST', '/customers/import', batch), 'import customers', 200);
    const imported = (answer.body as { imported?: number }).imported;
    if (imported !== batch.length) throw new Error(`import customers: ${imported} of ${batch.length} imported: ${JSON.stringify(answer.body).slice(0, 500)}`);
  }
}

/** Starts `stage` for all of them through `POST /campaigns/<stage>/start`, 1000 a request (retried as a client would). */
export async function startStage(client: ApiClient, stage: 'onboarding' | 'winback' | 'nurture', customers: ChaosCustomer[]): Promise<void> {
  for (let i = 0; i < customers.length; i += 1000) {
    const customerIds = customers.slice(i, i + 1000).map((c) => c.id);
    const answer = expectStatus(
      await client.request('POST', `/campaigns/${stage}/start`, { customerIds }, { retryForMs: 120_000 }),
      `start ${stage}`,
      200,
      201,
    );
    const counts = (answer.body as { counts?: { started: number; alreadyRunning: number } }).counts;
    const begun = (counts?.started ?? 0) + (counts?.alreadyRunning ?? 0);
    if (begun !== customerIds.length) throw new Error(`start ${stage}: ${JSON.stringify(counts)} for ${customerIds.length} customers`);
  }
}

export function startOnboarding(client: ApiClient, customers: ChaosCustomer[]): Promise<void> {
  return startStage(client, 'onboarding', customers);
}
