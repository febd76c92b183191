import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { startConfiguredDevServer } from './dev-server';

/** `npm run server`: the embedded Temporal dev server in the foreground, history kept in the data folder. */
runMain(async () => {
  const config = loadConfig();
  const server = await startConfiguredDevServer(config, (line) => console.log(line));
  console.log(`Temporal dev server at ${server.address}, namespace "${config.temporal.namespace}"`);
  console.log(`Temporal Web UI: ${server.uiUrl}`);
  console.log(`history file: ${config.temporal.devServer.dbFile} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    // The server is a native child process: without a timer Node would see nothing to wait for and exit.
    setInterval(() => undefined, 1 << 30);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
});
