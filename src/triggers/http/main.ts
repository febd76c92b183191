import { runMain, UserFacingError } from '../../cli-errors';
import { loadConfig, requireSafeToServe } from '../../config';
import { connectClient } from '../../shared/temporal-connection';
import { openTriggerContext } from '../open-context';
import { startSignalRelay } from '../signal-relay';
import { buildApp } from './app';

/** `npm run api`: serves the HTTP API until SIGINT/SIGTERM. */
runMain(async () => {
  const config = loadConfig();
  requireSafeToServe(config, 'api');
  const client = await connectClient(config.temporal);
  const { ctx, close } = await openTriggerContext(config, client);
  const app = await buildApp({ config, ctx }, { logger: { level: 'info' } });
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserFacingError(`port ${config.http.port} is in use: stop the other server or set HTTP_PORT`);
    throw err;
  }
  // Every instance delivers the signals kept while Temporal did not answer; claims keep instances off each other's rows.
  const relay = startSignalRelay(ctx, { log: (message) => app.log.warn(message) });
  if (config.development) app.log.warn('RETENTION_ENV=development: built-in credentials and plain http are allowed; never expose this instance');
  if (!config.sms) app.log.info('Twilio is not configured: the Twilio webhooks are not served');
  console.log(`API on ${config.http.publicBaseUrl} (OpenAPI: ${config.http.publicBaseUrl}/openapi.json)`);
  const stop = async () => {
    await relay.stop();
    await app.close();
    await close();
    await client.connection.close();
  };
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(resolve));
  });
});
