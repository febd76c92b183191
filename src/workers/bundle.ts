import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface PreparedBundle {
  codePath: string;
  /** The process that built it, when built here. */
  builtBy?: number;
  /** Removes a bundle built here (a given file is left alone). */
  dispose(): Promise<void>;
}

/**
 * The workflow bundle a worker runs: the file `givenPath` names (built ahead, for example in a deploy pipeline by
 * `src/workers/bundle-child.ts`), or one built now in a child process. Built in the worker itself, webpack's few
 * hundred MB would stay in the worker's heap and RSS for its whole life.
 */
export async function prepareWorkflowBundle(givenPath?: string): Promise<PreparedBundle> {
  if (givenPath) return { codePath: path.resolve(givenPath), dispose: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-bundle-'));
  const codePath = path.join(dir, 'workflow-bundle.js');
  // From source the child needs tsx (which this process may have loaded some other way, jest for one); from the build, not.
  const entry = require.resolve('./bundle-child');
  const needsTsx = entry.endsWith('.ts') && !process.execArgv.some((arg) => arg.includes('tsx'));
  const child = fork(entry, [codePath], { stdio: 'inherit', execArgv: needsTsx ? [...process.execArgv, '--import', 'tsx'] : process.execArgv });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`bundling the workflows failed (${signal ?? `exit code ${code}`}); see the lines above`);
  }
  return { codePath, builtBy: child.pid, dispose: () => rm(dir, { recursive: true, force: true }) };
}
