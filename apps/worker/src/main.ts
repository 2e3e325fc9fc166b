/** The worker process: a Nest standalone application hosting the Temporal worker. */
import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '../../../libs/config/src/config';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    logger: new ConsoleLogger({ prefix: 'evs-worker', json: true, logLevels: nestLogLevels(config.logLevel) }),
  });
  app.enableShutdownHooks();
  await app.init();
}

function nestLogLevels(level: string): Array<'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 }[level] ?? 3;
  return order.slice(0, upTo + 1);
}

bootstrap().catch((err: unknown) => {
  new Logger('evs-worker').fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
