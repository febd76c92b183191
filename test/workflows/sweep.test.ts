import { WorkflowNotFoundError } from '@temporalio/client';
import type { CampaignDefinitionInput } from '../../src/shared/campaign-definition';
import { sweepProgressQuery, type SweepProgress, type WinbackSweepInput } from '../../src/shared/sweep-contracts';
import { startJourney } from '../../src/triggers/journeys';
import type { winbackSweepWorkflow } from '../../src/workflows/sweep';
import { seedCustomer, startJourneyKit, type JourneyTestKit } from '../journeys/journey-env';

const DAY = 86_400_000;

const winback = (overrides: Partial<CampaignDefinitionInput> = {}): CampaignDefinitionInput =>
  ({
    id: 'winback-sweep-test',
    version: 1,
    stage: 'winback',
    holdoutPercent: 0,
    inactiveDays: 60,
    steps: [
      { id: 'we-miss-you', template: 'winback/we-miss-you' },
      { id: 'offer', after: '3 days', template: 'winback/offer', includeOffer: true },
    ],
    offer: { discountPercent: 15, validFor: '10 days' },
    finalWait: '2 days',
    churnSurvey: { template: 'winback/churn-survey', timeout: '1 day' },
    ...overrides,
  }) as CampaignDefinitionInput;

describe('win-back sweep', () => {
  let kit: JourneyTestKit;
  /** Win-back journeys a test left running: terminated after it (they would fire timers in later tests). */
  let toTerminate: string[];

  afterEach(async () => {
    for (const workflowId of toTerminate) {
      await kit.env.client.workflow
        .getHandle(workflowId)
        .terminate('test finished')
        .catch(() => undefined);
    }
    await kit?.close();
  });

  async function sweep(input: WinbackSweepInput, id: string): Promise<SweepProgress> {
    return kit.env.client.workflow.execute<typeof winbackSweepWorkflow>('winbackSweepWorkflow', {
      taskQueue: kit.taskQueue,
      workflowId: `sweep-${id}-${Date.now()}`,
      args: [input],
    });
  }

  const describeWinback = (customerId: string) => kit.env.client.workflow.getHandle(`winback-${customerId}`).describe();
  const startWinback = (customerId: string) => startJourney(kit.env.client, kit.catalog, kit.taskQueue, { stage: 'winback', customerId });

  it('pages through lapsed customers, starts win-back for those not in it, and starts nothing on a second run', async () => {
    kit = await startJourneyKit([winback()]);
    toTerminate = [];
    const now = await kit.env.currentTimeMs();
    const tag = now.toString(36);
    const seed = (id: string, inactiveDays: number) => seedCustomer(kit.store, { id: `${id}-${tag}`, lastActivityAt: new Date(now - inactiveDays * DAY) });
    const lapsed = await Promise.all(['l1', 'l2', 'l3', 'l4', 'l5'].map((id, i) => seed(id, 61 + i * 30)));
    const recent = await Promise.all([seed('r1', 59), seed('r2', 1)]);
    const inWinback = await seed('l0', 90);

    await kit.run(async () => {
      const existing = await startWinback(inWinback.id);
      toTerminate.push(existing.workflowId, ...lapsed.map((c) => `winback-${c.id}`));

      // The threshold comes from the default win-back campaign (60 days); 6 lapsed customers, 2 per page.
      const first = await sweep({ pageSize: 2, pagesPerRun: 2 }, 'first');
      expect(first).toMatchObject({
        inactiveDays: 60,
        customersSeen: 6,
        started: 5,
        alreadyRunning: 1,
        alreadyRan: 0,
        failed: 0,
        failures: [],
        pages: 4, // three full pages, then an empty one that ends the sweep
        continuedAsNew: 1,
        done: true,
      });
      expect(first.cutoff).toBe(first.startedAt - 60 * DAY);

      for (const customer of lapsed) {
        const description = await describeWinback(customer.id);
        expect(description.status.name).toBe('RUNNING');
        expect(description.type).toBe('winbackWorkflow');
        expect(description.taskQueue).toBe(kit.taskQueue);
      }
      // The journey that was already running is the same run, not a second copy.
      expect((await describeWinback(inWinback.id)).runId).toBe(existing.runId);
      for (const customer of recent) {
        await expect(describeWinback(customer.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
      }

      const second = await sweep({ pageSize: 2 }, 'second');
      expect(second).toMatchObject({ customersSeen: 6, started: 0, alreadyRunning: 6, alreadyRan: 0, failed: 0, continuedAsNew: 0 });
    });
  });

  it('reports its progress through the sweepProgress query while it runs, and honours an explicit threshold', async () => {
    // The second page's starts wait for the test: the sweep is caught between pages.
    let secondPageReached!: () => void;
    const reached = new Promise<void>((resolve) => (secondPageReached = resolve));
    let releaseSecondPage!: () => void;
    const released = new Promise<void>((resolve) => (releaseSecondPage = resolve));
    let pagesStarted = 0;
    kit = await startJourneyKit([winback()], (product) => ({
      async startWinbacks(input) {
        if (++pagesStarted === 2) {
          secondPageReached();
          await released;
        }
        return product.startWinbacks(input);
      },
    }));
    toTerminate = [];
    const now = await kit.env.currentTimeMs();
    // Lapsed under the explicit 14 days, not under the campaign's 60; the third is active within 14 days.
    const lapsed = await Promise.all([20, 30].map((days) => seedCustomer(kit.store, { lastActivityAt: new Date(now - days * DAY) })));
    const active = await seedCustomer(kit.store, { lastActivityAt: new Date(now - 10 * DAY) });
    toTerminate.push(...lapsed.map((c) => `winback-${c.id}`));
    const firstId = lapsed.map((c) => c.id).sort()[0];
    await kit.run(async () => {
      const handle = await kit.env.client.workflow.start<typeof winbackSweepWorkflow>('winbackSweepWorkflow', {
        taskQueue: kit.taskQueue,
        workflowId: `sweep-query-${Date.now()}`,
        args: [{ inactiveDays: 14, pageSize: 1 }],
      });
      await reached;
      const midway = await handle.query(sweepProgressQuery).finally(releaseSecondPage);
      expect(midway).toMatchObject({ inactiveDays: 14, pages: 1, customersSeen: 1, started: 1, afterId: firstId, done: false });

      const result = await handle.result();
      // Two full pages of one, then an empty one that ends the sweep.
      expect(result).toMatchObject({ inactiveDays: 14, customersSeen: 2, started: 2, pages: 3, done: true });
      expect(await handle.query(sweepProgressQuery)).toEqual(result);
      for (const customer of lapsed) expect((await describeWinback(customer.id)).status.name).toBe('RUNNING');
      await expect(describeWinback(active.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });
  });

  it('does not enrol a customer again for the same lapse, but does after they came back and lapsed again', async () => {
    kit = await startJourneyKit([winback()]); // re-entry "always"
    toTerminate = [];
    const t0 = await kit.env.currentTimeMs();
    const stillGone = await seedCustomer(kit.store, { lastActivityAt: new Date(t0 - 90 * DAY) });
    const cameBack = await seedCustomer(kit.store, { lastActivityAt: new Date(t0 - 90 * DAY) });
    toTerminate.push(`winback-${cameBack.id}`);

    await kit.run(async () => {
      const journeys = await Promise.all([startWinback(stillGone.id), startWinback(cameBack.id)]);
      for (const j of journeys) await kit.env.client.workflow.getHandle(j.workflowId).result();
      // `cameBack` was active after their win-back, then went quiet for longer than the threshold again.
      await kit.store.touchActivity(cameBack.id, new Date(await kit.env.currentTimeMs()));
      await kit.env.sleep('65 days');

      const result = await sweep({}, 'relapse');
      expect(result).toMatchObject({ customersSeen: 2, started: 1, alreadyRunning: 0, alreadyRan: 1, failed: 0 });
      expect((await describeWinback(stillGone.id)).status.name).toBe('COMPLETED');
      const restarted = await describeWinback(cameBack.id);
      expect(restarted.status.name).toBe('RUNNING');
      expect(restarted.runId).not.toBe(journeys[1]?.runId);
    });
  });

  it('counts a customer whose campaign forbids re-entry as already ran', async () => {
    kit = await startJourneyKit([winback({ reentry: 'never' })]);
    toTerminate = [];
    const t0 = await kit.env.currentTimeMs();
    const customer = await seedCustomer(kit.store, { lastActivityAt: new Date(t0 - 90 * DAY) });

    await kit.run(async () => {
      const first = await startWinback(customer.id);
      await kit.env.client.workflow.getHandle(first.workflowId).result();
      await kit.store.touchActivity(customer.id, new Date(await kit.env.currentTimeMs()));
      await kit.env.sleep('65 days');

      const result = await sweep({}, 'never');
      expect(result).toMatchObject({ customersSeen: 1, started: 0, alreadyRan: 1, failed: 0 });
      expect((await describeWinback(customer.id)).runId).toBe(first.runId);
    });
  });
});
