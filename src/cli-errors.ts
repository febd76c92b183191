/**
 * An error meant for a person at a terminal: its message is the whole story (what failed and what to do),
 * so entry points print it as one line and exit non-zero instead of dumping a stack trace.
 */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/** Runs an entry point; known errors end as a clear message and exit code 1, anything else keeps its stack. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof UserFacingError || (err instanceof Error && err.name === 'ConfigError')) {
      console.error(`error: ${err.message}`);
    } else {
      console.error('error: unexpected failure; details follow');
      console.error(err);
    }
    process.exit(1);
  });
}
