import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundlerOptions, workflowsPath } from './worker';

/** Writes the workflow bundle to the path given as the only argument (a child of the worker, or a build step). */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) throw new Error('usage: bundle-child <output file>');
  const bundle = await bundleWorkflowCode({ workflowsPath, ...workflowBundlerOptions });
  await writeFile(target, bundle.code);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
