/**
 * The process around a consumer application, the same for billing and
 * audit: config once, Nest's log levels from LOG_LEVEL, an HTTP server for
 * queries, /healthz and /metrics, and an orderly stop on SIGTERM (the
 * consumer finishes its batch and commits before the database closes).
 */
import { type DynamicModule, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, loadConfig } from '../../config/src/config';

const LEVELS: [AppConfig['logLevel'], LogLevel][] = [
  ['fatal', 'fatal'],
  ['error', 'error'],
  ['warn', 'warn'],
  ['info', 'log'],
  ['debug', 'debug'],
  ['trace', 'verbose'],
];

function nestLogLevels(level: AppConfig['logLevel']): LogLevel[] | false {
  if (level === 'silent') return false;
  return LEVELS.slice(0, LEVELS.findIndex(([name]) => name === level) + 1).map(([, nest]) => nest);
}

export interface ConsumerAppSpec {
  /** For the logs. */
  name: string;
  module: (config: AppConfig) => DynamicModule;
  listen: (config: AppConfig) => { host: string; port: number };
}

export function runConsumerApp(spec: ConsumerAppSpec): void {
  const logger = new Logger(spec.name);
  const bootstrap = async (): Promise<void> => {
    const config = loadConfig();
    const app = await NestFactory.create(spec.module(config), {
      // Throw on a boot failure (a database file it cannot open) so it is reported below.
      abortOnError: false,
      logger: nestLogLevels(config.logLevel),
    });
    (app.getHttpAdapter().getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
    app.enableShutdownHooks();
    const { host, port } = spec.listen(config);
    try {
      await app.listen(port, host);
    } catch (err) {
      await app.close();
      throw err;
    }
    logger.log(`listening on http://${host}:${port} (/healthz, /metrics)`);
  };
  bootstrap().catch((err: unknown) => {
    logger.fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
    // Exit at once: a half-built Nest application can keep the event loop busy forever.
    process.exit(1);
  });
}
