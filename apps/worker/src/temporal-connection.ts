/**
 * The worker's one connection to Temporal. The SDK's runtime (and with it
 * where the Rust core logs) must be set up before the first connection, so
 * both happen here.
 */
import { Logger } from '@nestjs/common';
import { makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import type { AppConfig } from '../../../libs/config/src/config';
import { processLogger } from '../../../libs/observability/src/process-logger';
import { ensureProvisioned, untestedVersionWarning } from '../../../libs/temporal/src/provisioning';
import { temporalConnectionSettings } from '../../../libs/temporal/src/connection-options';
import { coreLogLevel, TemporalPinoLogger } from './temporal-logger';

let runtimeInstalled = false;
function installRuntime(worker: AppConfig['worker'], logLevel: AppConfig['logLevel']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    telemetryOptions: {
      // The Rust core's lines are forwarded to the logger below instead of printed as text on their own.
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: coreLogLevel(logLevel) }) },
      // The SDK's metrics under its own default names (temporal_ prefix, milliseconds), which the public
      // Temporal SDK dashboards query unchanged.
      ...(worker.sdkMetricsPort > 0 ? { metrics: { prometheus: { bindAddress: `${worker.healthHost}:${worker.sdkMetricsPort}` } } } : {}),
    },
    logger: new TemporalPinoLogger(processLogger().child({ component: 'temporal' })),
  });
}

/**
 * Writes the SDK's log lines still held back (it sorts them with the core's
 * for about 100 ms): for an exit that skips the runtime's shutdown, so the
 * lines that explain it are not lost.
 */
export function flushTemporalLogs(): void {
  if (runtimeInstalled) Runtime.instance().flushLogs();
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
  installRuntime(config.worker, config.logLevel);
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
