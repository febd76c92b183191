import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../harness';

const dir = path.resolve('test/histories');

/**
 * Saved histories of each stage (recorded by `npm run histories:record`) must replay against the current workflow
 * code: a change that would break running journeys fails here and needs `patched()`.
 */
describe('replay of saved stage histories', () => {
  it('has a saved history for every stage', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.binpb')).sort();
    expect(files.map((f) => f.split('-')[0])).toEqual(['complaint', 'nurture', 'onboarding', 'winback']);
  });

  it('replays every saved history without nondeterminism', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.binpb'));
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
    expect(replayed).toBe(4);
  });
});
