import { type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { httpMetricsMiddleware } from '../../../libs/observability/src/http-metrics';
import { httpTracingMiddleware } from '../../../libs/observability/src/http-tracing';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import { InventoryExceptionFilter } from './http/inventory-exception.filter';
import { InventoryModule, type InventorySettings } from './inventory.module';

export interface InventoryAppOptions {
  logger?: LoggerService | LogLevel[] | false;
}

/**
 * Builds the inventory application without listening, so main.ts and the
 * HTTP tests start exactly the same app. The database is open (and migrated)
 * when this resolves.
 */
export async function createInventoryApp(
  settings: InventorySettings,
  options: InventoryAppOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(InventoryModule.forRoot(settings), {
    // Throw on a boot failure (bad database file, say) instead of exiting, so the caller reports it.
    abortOnError: false,
    // Service signatures cover the body as sent, not as parsed.
    rawBody: true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  app.use(httpMetricsMiddleware(app.get(ProcessMetrics).registry));
  app.use(httpTracingMiddleware());
  app.useGlobalFilters(new InventoryExceptionFilter(app.get(HttpAdapterHost)));
  // The platform is Express (@nestjs/platform-express); do not advertise it.
  (app.getHttpAdapter().getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
  return app;
}
