/**
 * The gateway process: the public EVS disk-transfer HTTP API.
 */
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../../../libs/config/src/config';
import { openOrExit } from '../../../libs/database/src/open-or-exit';
import { installProcessLogger } from '../../../libs/observability/src/process-logger';
import { startTracing } from '../../../libs/observability/src/tracing';
import { GatewayModule } from './gateway.module';
import { configureGateway, GATEWAY_APP_OPTIONS } from './gateway.setup';
import { TEMPORAL_CONNECTION } from './gateway.tokens';
import { checkTemporalAtStart } from './temporal/temporal-start-check';

const { logger, nest } = installProcessLogger('evs-gateway');

async function bootstrap(): Promise<void> {
  startTracing('evs-gateway');
  const config = loadConfig();
  logger.level = config.logLevel;
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    ...GATEWAY_APP_OPTIONS,
    logger: nest,
  });
  configureGateway(app);
  await openOrExit(() => checkTemporalAtStart(app.get<Connection>(TEMPORAL_CONNECTION), config.temporal, new Logger('Temporal')));
  app.enableShutdownHooks();
  await app.listen(config.gateway.port, config.gateway.host);
  new Logger('Gateway').log(`listening on http://${config.gateway.host}:${config.gateway.port} (API docs at /docs)`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Gateway').fatal(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
