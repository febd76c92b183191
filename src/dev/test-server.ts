import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../cli-errors';
import { projectRoot, toolsDir } from './paths';

const run = promisify(execFile);

const testServerDir = path.join(toolsDir, 'test-server');
const classpathDir = path.join(testServerDir, 'lib');
const pomFile = path.join(projectRoot, 'src', 'dev', 'test-server.pom.xml');
/** Executable the SDK launches as `<wrapper> <port> --enable-time-skipping`. */
export const testServerWrapper = path.join(testServerDir, 'temporal-test-server');

// Flags for a fast JVM start: the SDK core gives an ephemeral server 5 seconds to accept connections.
const wrapperScript = `#!/bin/sh
# Java build of Temporal's time-skipping test server (io.temporal:temporal-test-server), provisioned by src/dev/test-server.ts.
dir=$(cd "$(dirname "$0")" && pwd)
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
`;

export type ResolvedTestServer = { source: 'java classpath'; path: string } | { source: 'sdk download'; reason: string };

async function hasServerJar(): Promise<boolean> {
  try {
    return (await readdir(classpathDir)).some((f) => f.startsWith('temporal-test-server-') && f.endsWith('.jar'));
  } catch {
    return false;
  }
}

async function commandWorks(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Provisions the time-skipping test server from Maven Central into `.temporal/test-server` and writes the wrapper
 * the SDK launches through `existing-path`. Without Java and Maven, tests fall back to the SDK's own download.
 */
export async function resolveTestServer(log: (line: string) => void = () => undefined): Promise<ResolvedTestServer> {
  if (!(await commandWorks('java', ['-version']))) {
    return { source: 'sdk download', reason: 'java not found' };
  }
  if (!(await hasServerJar())) {
    if (!(await commandWorks('mvn', ['-v']))) return { source: 'sdk download', reason: 'mvn not found' };
    log('fetching the time-skipping test server classpath from Maven Central');
    try {
      await run(
        'mvn',
        ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${classpathDir}`, '-DincludeScope=runtime'],
        { maxBuffer: 32 * 1024 * 1024 },
      );
    } catch (err) {
      const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`.trim();
      throw new UserFacingError(
        `Maven could not fetch io.temporal:temporal-test-server (${out.split('\n').slice(-2).join(' | ')}). Check access to Maven Central.`,
      );
    }
  }
  await mkdir(testServerDir, { recursive: true });
  await writeFile(testServerWrapper, wrapperScript);
  await chmod(testServerWrapper, 0o755);
  return { source: 'java classpath', path: testServerWrapper };
}

export function describeTestServer(server: ResolvedTestServer): string {
  return server.source === 'java classpath'
    ? `Time-skipping test server: ${server.path} (Java build from Maven Central)`
    : `Time-skipping test server: SDK cached download (${server.reason}; needs internet access)`;
}
