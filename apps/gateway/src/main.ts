/**
 * The gateway process: the public EVS disk-transfer HTTP API.
 */
import { type LogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type AppConfig, loadConfig } from '../../../libs/config/src/config';
import { GatewayModule } from './gateway.module';
import { configureGateway, GATEWAY_APP_OPTIONS } from './gateway.setup';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const LEVEL_COUNT: Record<AppConfig['logLevel'], number> = {
  silent: 0,
  fatal: 1,
  error: 2,
  warn: 3,
  info: 4,
  debug: 5,
  trace: 6,
};

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const levels = LEVELS.slice(0, LEVEL_COUNT[config.logLevel]);
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    ...GATEWAY_APP_OPTIONS,
    logger: levels.length > 0 ? levels : false,
  });
  configureGateway(app);
  app.enableShutdownHooks();
  await app.listen(config.gateway.port, config.gateway.host);
  new Logger('Gateway').log(`listening on http://${config.gateway.host}:${config.gateway.port} (API docs at /docs)`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Gateway').fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
