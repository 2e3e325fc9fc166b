/**
 * The gateway's look at Temporal before it takes requests. A server that
 * lacks our namespace or search attributes would take creates and fail them
 * only once a workflow ran, so when Temporal answers at start it is checked
 * as the worker checks it (created when TEMPORAL_PROVISION=1), and a gap
 * stops the gateway with the worker's one line. A Temporal that does not
 * answer within a few seconds is not waited for: the gateway starts, serves
 * what needs no Temporal and answers 503 for the rest until it is back
 * (temporal.providers.ts), and the worker, which cannot start without
 * Temporal, checks it when it does.
 */
import type { Logger } from '@nestjs/common';
import type { Connection } from '@temporalio/client';
import { type AppConfig, StartupError } from '../../../../libs/config/src/config';
import { ensureProvisioned } from '../../../../libs/temporal/src/provisioning';

export const TEMPORAL_START_CHECK_MS = 5000;

export async function checkTemporalAtStart(connection: Connection, temporal: AppConfig['temporal'], logger: Logger): Promise<void> {
  try {
    await connection.withDeadline(Date.now() + TEMPORAL_START_CHECK_MS, () =>
      ensureProvisioned(connection, temporal, (line) => logger.log(line)),
    );
  } catch (err) {
    if (err instanceof StartupError) throw err;
    logger.warn(
      `Temporal at ${temporal.address} did not answer within ${TEMPORAL_START_CHECK_MS} ms (${err instanceof Error ? err.message : String(err)}): ` +
        `starting without checking namespace ${temporal.namespace} and its search attributes; the worker checks them when it starts`,
    );
  }
}
