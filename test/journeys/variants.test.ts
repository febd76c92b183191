import path from 'node:path';
import { campaignFor } from '../../src/campaigns/catalog';
import { journeyStateQuery } from '../../src/shared/messages';
import { startJourney, type StartedJourney } from '../../src/triggers/journeys';
import { seedCustomer, startJourneyKit, subjectsTo, type JourneyTestKit } from './journey-env';

/**
 * The welcome subject each variant of the shipped onboarding campaign must send, written by hand from
 * templates/onboarding/welcome.subject.liquid and welcome-short.subject.liquid ("Shop" is the test deps' brand).
 */
const EXPECTED_SUBJECT: Record<string, (name: string) => string> = {
  control: (name) => `Welcome to Shop, ${name}!`,
  'short-subject': (name) => `Welcome, ${name}!`,
};

// Chosen so that, with the shipped split, both variants and a holdout occur; the assertions go by what each journey reports.
const NAMES = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Barbara', 'Edsger', 'Katherine', 'Dennis', 'Frances'];

describe('A/B variants of the shipped onboarding campaign (time skipping, real SMTP server)', () => {
  let kit: JourneyTestKit;
  beforeAll(async () => {
    kit = await startJourneyKit();
  });
  afterAll(async () => {
    await kit?.close();
  });

  it("sends each variant's customers that variant's welcome, and holdout customers nothing", async () => {
    const entry = campaignFor(kit.catalog, 'onboarding');
    expect(entry.file).toBe(path.resolve('campaigns/onboarding.json'));
    expect(entry.definition.variants.map((v) => v.name).sort()).toEqual(Object.keys(EXPECTED_SUBJECT).sort());

    const customers = await Promise.all(NAMES.map((name) => seedCustomer(kit.store, { id: `ab-${name.toLowerCase()}`, name })));
    const states = await kit.run(async () => {
      const started: StartedJourney[] = [];
      for (const customer of customers) {
        started.push(await startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'onboarding', customerId: customer.id }));
      }
      // The welcome is due at once, the first tip a day later.
      await kit.env.sleep('1 hour');
      const reported = await Promise.all(started.map((s) => kit.env.client.workflow.getHandle(s.workflowId).query(journeyStateQuery)));
      await kit.smtp.waitForMessages(reported.filter((s) => !s.holdout).length);
      for (const s of started) await kit.expectRunningAndStop(s.workflowId);
      return reported;
    });

    const received = customers.map((customer, i) => {
      const { variant, holdout } = states[i] as (typeof states)[number];
      return { customer: customer.name, variant, holdout, subjects: subjectsTo(kit.smtp, customer.email as string) };
    });
    expect(received).toEqual(
      received.map(({ customer, variant, holdout }) => ({
        customer,
        variant,
        holdout,
        subjects: holdout ? [] : [EXPECTED_SUBJECT[variant]?.(customer)],
      })),
    );
    const variantsSent = new Set(received.filter((r) => !r.holdout).map((r) => r.variant));
    expect([...variantsSent].sort()).toEqual(['control', 'short-subject']);
  });
});
