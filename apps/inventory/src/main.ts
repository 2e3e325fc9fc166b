import { Logger } from '@nestjs/common';
import { openJwtTokenVerifier } from '../../../libs/auth/src/jwt-verifier.setup';
import { loadOrCreateServiceSecret } from '../../../libs/auth/src/service-signature';
import { loadConfig } from '../../../libs/config/src/config';
import { describeTarget } from '../../../libs/database/src/database-url';
import { installProcessLogger } from '../../../libs/observability/src/process-logger';
import { startTracing } from '../../../libs/observability/src/tracing';
import { createInventoryApp } from './inventory.app';

const processLogger = installProcessLogger('evs-inventory');

async function bootstrap(): Promise<void> {
  startTracing('evs-inventory');
  const config = loadConfig();
  processLogger.logger.level = config.logLevel;
  const { host, port, defaultQuota, serviceSecretFile } = config.inventory;
  const target = config.databases.inventory;
  const logger = new Logger('Inventory');
  const auth = {
    serviceSecret: loadOrCreateServiceSecret(serviceSecretFile),
    tokenVerifier: openJwtTokenVerifier(config.auth, (file) =>
      logger.warn(`${file} does not exist: creating the local token issuer's key pair`),
    ),
  };
  const app = await createInventoryApp(
    { store: { target, poolMax: config.databases.poolMax, defaultQuota }, auth },
    { logger: processLogger.nest },
  );
  app.enableShutdownHooks();
  try {
    await app.listen(port, host);
  } catch (err) {
    await app.close();
    throw err;
  }
  logger.log(`Listening on http://${host}:${port} (database ${describeTarget(target)}, service secret file ${serviceSecretFile})`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Inventory').fatal(err);
  // Exit at once: a half-built Nest application can keep the event loop busy forever.
  process.exit(1);
});
