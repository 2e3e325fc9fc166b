/**
 * The process around a consumer application, the same for billing and
 * audit: config once, JSON logs at LOG_LEVEL, an HTTP server for
 * queries, /healthz and /metrics, and an orderly stop on SIGTERM (the
 * consumer finishes its batch and commits before the database closes).
 */
import { type DynamicModule, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, loadConfig } from '../../config/src/config';
import { httpMetricsMiddleware } from '../../observability/src/http-metrics';
import { installProcessLogger } from '../../observability/src/process-logger';
import { ProcessMetrics } from '../../observability/src/process-metrics';
import { startTracing } from '../../observability/src/tracing';

export interface ConsumerAppSpec {
  /** For the logs. */
  name: string;
  module: (config: AppConfig) => DynamicModule;
  listen: (config: AppConfig) => { host: string; port: number };
}

export function runConsumerApp(spec: ConsumerAppSpec): void {
  const processLogger = installProcessLogger(`evs-${spec.name.toLowerCase()}`);
  const logger = new Logger(spec.name);
  const bootstrap = async (): Promise<void> => {
    startTracing(`evs-${spec.name.toLowerCase()}`);
    const config = loadConfig();
    processLogger.logger.level = config.logLevel;
    const app = await NestFactory.create(spec.module(config), {
      // Throw on a boot failure (a database it cannot open or migrate) so it is reported below.
      abortOnError: false,
      logger: processLogger.nest,
    });
    (app.getHttpAdapter().getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
    app.use(httpMetricsMiddleware(app.get(ProcessMetrics).registry));
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
    logger.fatal(err);
    // Exit at once: a half-built Nest application can keep the event loop busy forever.
    process.exit(1);
  });
}
