import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { describeChromium } from './chromium';
import { ensurePostgres } from './postgres';
import { describeSchemathesis } from './schemathesis';
import { describeCli, resolveTemporalCli } from './temporal-cli';
import { describeServerBinaries, resolveTemporalServer } from './temporal-server-binaries';
import { describeTestServer, resolveTestServer } from './test-server';

/**
 * `npm run provision`: makes sure a Temporal CLI (dev server) and the time-skipping test server are available,
 * building or fetching them into `.temporal/` when needed, and says which ones will be used. With --tests it also
 * makes sure a PostgreSQL server can be started for the store tests, Chromium is there for the browser tests and
 * schemathesis for the contract test; with
 * --tests or --fleet, that the Temporal server and SQL tool of `npm run fleet` (and the fleet scenarios) are built.
 */
runMain(async () => {
  const quiet = process.argv.includes('--quiet');
  const log = (line: string) => console.log(`provision: ${line}`);
  const config = loadConfig();
  const cli = await resolveTemporalCli({ cliPath: config.temporal.devServer.cliPath, log });
  const testServer = await resolveTestServer(quiet ? () => undefined : log);
  log(describeCli(cli));
  log(describeTestServer(testServer));
  if (process.argv.includes('--tests')) {
    log(await ensurePostgres(log));
    log(await describeChromium(log));
    log(await describeSchemathesis(log));
  }
  if (process.argv.includes('--tests') || process.argv.includes('--fleet')) {
    const { serverPath, sqlToolPath } = config.fleet;
    log(describeServerBinaries(await resolveTemporalServer({ serverPath, sqlToolPath, log })));
  }
});
