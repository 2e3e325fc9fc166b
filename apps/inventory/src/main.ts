import { Logger, type LogLevel } from '@nestjs/common';
import { loadConfig, type AppConfig } from '../../../libs/config/src/config';
import { createInventoryApp } from './inventory.app';

/** Nest's levels for the configured pino-style level: that level and everything more severe. */
function nestLogLevels(level: AppConfig['logLevel']): LogLevel[] | false {
  const ladder: [AppConfig['logLevel'], LogLevel][] = [
    ['fatal', 'fatal'],
    ['error', 'error'],
    ['warn', 'warn'],
    ['info', 'log'],
    ['debug', 'debug'],
    ['trace', 'verbose'],
  ];
  if (level === 'silent') return false;
  const upTo = ladder.findIndex(([name]) => name === level);
  return ladder.slice(0, upTo + 1).map(([, nest]) => nest);
}

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const { host, port, dbPath, defaultQuota } = config.inventory;
  const app = await createInventoryApp({ dbPath, defaultQuota }, { logger: nestLogLevels(config.logLevel) });
  app.enableShutdownHooks();
  try {
    await app.listen(port, host);
  } catch (err) {
    await app.close();
    throw err;
  }
  new Logger('Inventory').log(`Listening on http://${host}:${port} (database ${dbPath})`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Inventory').fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
  // Exit at once: a half-built Nest application can keep the event loop busy forever.
  process.exit(1);
});
