/**
 * The worker's one connection to Temporal. The SDK's runtime (and with it
 * where the Rust core logs) must be set up before the first connection, so
 * both happen here.
 */
import { Logger } from '@nestjs/common';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { AppConfig } from '../../../libs/config/src/config';
import { temporalConnectionSettings } from '../../../libs/temporal/src/connection-options';

let runtimeInstalled = false;
function installRuntimeLogger(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      const line = `${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}`;
      if ((['ERROR'] as LogLevel[]).includes(entry.level)) logger.error(line);
      else logger.warn(line);
    }),
  });
}

export async function connectTemporal(config: AppConfig): Promise<NativeConnection> {
  installRuntimeLogger(new Logger('TemporalWorkerService'));
  return NativeConnection.connect(temporalConnectionSettings(config.temporal));
}
