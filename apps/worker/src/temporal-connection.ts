/**
 * The worker's one connection to Temporal. The SDK's runtime (and with it
 * where the Rust core logs) must be set up before the first connection, so
 * both happen here.
 */
import { Logger } from '@nestjs/common';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { AppConfig } from '../../../libs/config/src/config';
import { ensureProvisioned, untestedVersionWarning } from '../../../libs/temporal/src/provisioning';
import { temporalConnectionSettings } from '../../../libs/temporal/src/connection-options';

let runtimeInstalled = false;
function installRuntime(logger: Logger, worker: AppConfig['worker']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    // The SDK's metrics under its own default names (temporal_ prefix, milliseconds), which the public
    // Temporal SDK dashboards query unchanged.
    ...(worker.sdkMetricsPort > 0
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `${worker.healthHost}:${worker.sdkMetricsPort}` } } } }
      : {}),
    logger: new DefaultLogger('WARN', (entry) => {
      const line = `${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}`;
      if ((['ERROR'] as LogLevel[]).includes(entry.level)) logger.error(line);
      else logger.warn(line);
    }),
  });
}

/**
 * Connects, then checks the server before anything uses it: its version
 * (reported when untested) and our namespace and search attributes (created
 * when TEMPORAL_PROVISION=1, otherwise a StartupError naming what is missing).
 * Here rather than in the worker's start, so the reconciler's Schedule is not
 * tried on a namespace that does not exist.
 */
export async function connectTemporal(config: AppConfig): Promise<NativeConnection> {
  const logger = new Logger('TemporalWorkerService');
  installRuntime(logger, config.worker);
  const connection = await NativeConnection.connect(temporalConnectionSettings(config.temporal));
  try {
    const warning = untestedVersionWarning((await connection.workflowService.getSystemInfo({})).serverVersion);
    if (warning !== null) logger.warn(warning);
    await ensureProvisioned(connection, config.temporal, (line) => logger.log(line));
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}
