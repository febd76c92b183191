import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { JOURNEY_REVISION } from '../../src/shared/journey-types';
import { workflowBundle } from '../harness';

const dir = path.resolve('test/histories');

/**
 * Saved histories of each stage (recorded by `npm run histories:record`, one file per journey revision) must replay
 * against the current workflow code: a change that would break running journeys fails here and needs a new
 * JOURNEY_REVISION (chosen by the journey's input) or `patched()`.
 */
describe('replay of saved stage histories', () => {
  it('has a saved history of every stage at the current journey revision', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith(`.rev${JOURNEY_REVISION}.binpb`)).sort();
    expect(files.map((f) => f.split('-')[0])).toEqual(['complaint', 'nurture', 'onboarding', 'winback']);
  });

  it('replays every saved history, of every revision, without nondeterminism', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.binpb'));
    expect(files.every((f) => /\.rev\d+\.binpb$/.test(f))).toBe(true);
    const histories = await Promise.all(
      files.map(async (f) => ({ workflowId: f, history: temporal.api.history.v1.History.decode(await readFile(path.join(dir, f))) })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
