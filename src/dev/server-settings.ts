/**
 * Dynamic configuration the project's own Temporal servers run with: the embedded dev server (`--dynamic-config-value`
 * flags) and the fleet's server built from go.temporal.io/server (its dynamicconfig.yaml). A self-hosted production
 * cluster should set the same values (docs/production.md).
 */
export const serverDynamicConfig: Readonly<Record<string, boolean | number | string>> = {
  /**
   * Eager activity dispatch: an activity a workflow task schedules on the worker's own task queue comes back in the
   * response to that task's completion, instead of going through matching and a poll. The server's default is off;
   * Temporal Cloud turns it on. It saves one server round trip and one persistence write per activity.
   */
  'system.enableActivityEagerExecution': true,
};

/** `--dynamic-config-value KEY=JSON` pairs for `temporal server start-dev`. */
export function dynamicConfigArgs(values: Readonly<Record<string, unknown>> = serverDynamicConfig): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
}

/** The same values as a file-based dynamic config (one unconstrained value per key). */
export function dynamicConfigYaml(values: Readonly<Record<string, unknown>> = serverDynamicConfig): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n    constraints: {}\n`)
    .join('');
}

/**
 * SQLite settings of the embedded dev server's file. Its default (a rollback journal, synchronous=FULL) rewrites and
 * syncs a journal file on every commit, and the server funnels all its writes through one connection, so commits
 * bounded a launch (measured in bench:scale: 62 starts/s and 16 first messages/s on 1,500 journeys, against 133 and 23
 * with these). With a write-ahead log and synchronous=NORMAL a commit is durable once it returns as far as a killed
 * process goes (the chaos suite SIGKILLs the server); an operating-system crash or power cut can lose the last
 * commits, which production avoids by running on PostgreSQL.
 */
export const devServerSqlitePragmas: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

/** `--sqlite-pragma NAME=VALUE` pairs for `temporal server start-dev` with a database file. */
export function sqlitePragmaArgs(pragmas: Readonly<Record<string, string>> = devServerSqlitePragmas): string[] {
  return Object.entries(pragmas).flatMap(([name, value]) => ['--sqlite-pragma', `${name}=${value}`]);
}

/** Every flag above for a dev server; the pragmas only with a database file (an in-memory one has no journal). */
export function devServerArgs(options: { dbFile?: string }): string[] {
  return [...dynamicConfigArgs(), ...(options.dbFile ? sqlitePragmaArgs() : [])];
}
