import { spawn } from 'node:child_process';
import path from 'node:path';

export interface NodeRun {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * Runs `node --import tsx <args>` from the repository root, as the npm scripts do, with exactly `env`, until it exits
 * (SIGKILLed after `timeoutMs`); stdout and stderr together in `output`.
 */
export function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<NodeRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: path.resolve(__dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}
