/**
 * The worker's one connection to Temporal. The SDK's runtime (and with it
 * where the Rust core logs) must be set up before the first connection, so
 * both happen here.
 */
import { Logger } from '@nestjs/common';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { type AppConfig, StartupError } from '../../../libs/config/src/config';
import { describeGap, inspectProvisioning, isProvisioned, provision, untestedVersionWarning } from '../../../libs/temporal/src/provisioning';
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

/**
 * Connects, then checks the server before anything uses it: its version
 * (reported when untested) and our namespace and search attributes (created
 * when TEMPORAL_PROVISION=1, otherwise a StartupError naming what is missing).
 * Here rather than in the worker's start, so the reconciler's Schedule is not
 * tried on a namespace that does not exist.
 */
export async function connectTemporal(config: AppConfig): Promise<NativeConnection> {
  const logger = new Logger('TemporalWorkerService');
  installRuntimeLogger(logger);
  const connection = await NativeConnection.connect(temporalConnectionSettings(config.temporal));
  const { address, namespace, provision: mayProvision, namespaceRetentionDays } = config.temporal;
  try {
    const warning = untestedVersionWarning((await connection.workflowService.getSystemInfo({})).serverVersion);
    if (warning !== null) logger.warn(warning);
    let gap = await inspectProvisioning(connection, namespace);
    if (!isProvisioned(gap) && mayProvision) {
      logger.log(`TEMPORAL_PROVISION=1: creating what ${namespace} lacks on ${address}`);
      gap = await provision(connection, namespace, { retentionDays: namespaceRetentionDays });
    }
    if (!isProvisioned(gap)) throw new StartupError(describeGap(gap, { address, namespace }));
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}
