import { existsSync, readFileSync } from 'node:fs';
import { prepareWorkflowBundle } from '../../src/workers/bundle';

describe('the worker’s workflow bundle', () => {
  it('is built in a child process into a temporary file, which dispose removes', async () => {
    const bundle = await prepareWorkflowBundle();
    try {
      const code = readFileSync(bundle.codePath, 'utf8');
      for (const workflow of ['onboardingWorkflow', 'nurtureWorkflow', 'complaintWorkflow', 'winbackWorkflow']) expect(code).toContain(workflow);
      expect(code).toContain('"./src/workflows/preload.ts"');
      // webpack ran in another process, which has exited (its memory with it).
      expect(bundle.builtBy).toEqual(expect.any(Number));
      expect(bundle.builtBy).not.toBe(process.pid);
      expect(() => process.kill(bundle.builtBy as number, 0)).toThrow();
    } finally {
      await bundle.dispose();
    }
    expect(existsSync(bundle.codePath)).toBe(false);
  }, 120_000);

  it('uses a bundle built ahead as it is', async () => {
    const bundle = await prepareWorkflowBundle('/srv/retention/workflow-bundle.js');
    expect(bundle.codePath).toBe('/srv/retention/workflow-bundle.js');
    await bundle.dispose();
  });
});
