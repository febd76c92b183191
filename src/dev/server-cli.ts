import os from 'node:os';
import { Client } from '@temporalio/client';
import { loadCatalog } from '../campaigns/catalog';
import { runMain } from '../cli-errors';
import { loadConfig } from '../config';
import { setupOptionsFor, setupTemporal } from '../triggers/setup';
import { startConfiguredDevServer } from './dev-server';

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once, in case stopping hangs. */
function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++received > 1) process.exit(128 + os.constants.signals[signal]);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * `npm run server`: the embedded Temporal dev server in the foreground, history kept in the data folder, prepared
 * for the product by the same setup as `retention setup`; SIGINT/SIGTERM stop it.
 */
runMain(async () => {
  // Listening from the start: a Ctrl-C while the server starts stops it once it is up.
  const stop = stopRequested();
  const config = loadConfig();
  const server = await startConfiguredDevServer(config, (line) => console.log(line));
  // The server is a native child process: without a timer Node would see nothing to wait for and exit.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    console.log(`Temporal dev server at ${server.address}, namespace "${config.temporal.namespace}"`);
    const client = new Client({ connection: server.env.connection, namespace: config.temporal.namespace });
    await setupTemporal(client, setupOptionsFor(config, await loadCatalog(config.campaignsDir)), (line) => console.log(line));
    console.log(`Temporal Web UI: ${server.uiUrl}`);
    console.log(`history file: ${config.temporal.devServer.dbFile} (Ctrl-C to stop)`);
    await stop;
    console.log('stopping the Temporal dev server ...');
  } finally {
    clearInterval(keepAlive);
    await server.stop();
  }
});
