/** The worker process: a Nest standalone application hosting the Temporal worker. */
import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, StartupError } from '../../../libs/config/src/config';
import { nestLogLevels } from '../../../libs/config/src/nest-log-levels';
import { startTracing } from '../../../libs/observability/src/tracing';
import { WORKER_SERVICE_NAME } from './temporal-worker.service';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  startTracing(WORKER_SERVICE_NAME);
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    logger: new ConsoleLogger({ prefix: 'evs-worker', json: true, logLevels: nestLogLevels(config.logLevel) }),
  });
  app.enableShutdownHooks();
  await app.init();
}

bootstrap().catch((err: unknown) => {
  new Logger('evs-worker').fatal(err instanceof ConfigError || err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
