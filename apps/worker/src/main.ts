/** The worker process: a Nest standalone application hosting the Temporal worker. */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, StartupError } from '../../../libs/config/src/config';
import { installProcessLogger } from '../../../libs/observability/src/process-logger';
import { startTracing } from '../../../libs/observability/src/tracing';
import { runWorkflowThreadsWithoutStackTraces } from '../../../libs/temporal/src/workflow-stack-traces';
import { flushTemporalLogs } from './temporal-connection';
import { WORKER_SERVICE_NAME } from './temporal-worker.service';
import { WorkerModule } from './worker.module';

const { logger, nest } = installProcessLogger('evs-worker');

async function bootstrap(): Promise<void> {
  startTracing(WORKER_SERVICE_NAME);
  const config = loadConfig();
  logger.level = config.logLevel;
  if (!config.worker.workflowStackTraces) runWorkflowThreadsWithoutStackTraces();
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: nest });
  app.enableShutdownHooks();
  await app.init();
}

bootstrap().catch((err: unknown) => {
  flushTemporalLogs();
  new Logger('evs-worker').fatal(err instanceof ConfigError || err instanceof StartupError ? err.message : err);
  process.exit(1);
});
