/**
 * Runs the reconciler now and prints what it found:
 *
 *   npm run -s reconcile                     # trigger the Schedule evs-reconciler, wait, print the run's result (JSON)
 *   npm run -s reconcile -- --timeout 120    # give up waiting after 120 s (default 600)
 *
 * The run is the Schedule's, like the periodic ones (the same as `temporal
 * schedule trigger --schedule-id evs-reconciler`), so it shows in the
 * Temporal UI under the Schedule and never overlaps another run: triggered
 * while one is in progress, it starts when that one ends. Needs the worker
 * to have started once against this Temporal (it creates the Schedule).
 *
 * Exit code 0 when nothing needs attention, 3 when some finding does (so a
 * cron job or a check can alert on it), 1 when the run could not be made.
 */
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../libs/config/src/config';
import { temporalConnectionSettings } from '../../libs/temporal/src/connection-options';
import { RECONCILER_SCHEDULE_ID } from '../../libs/temporal/src/reconciler.definitions';
import { triggerReconcileRun } from '../../libs/temporal/src/reconciler-schedule';

const NEEDS_ATTENTION_EXIT_CODE = 3;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { timeout: { type: 'string', default: '600' } } });
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error('--timeout takes a number of seconds');
  const config = loadConfig();
  const connection = await Connection.connect(temporalConnectionSettings(config.temporal));
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const run = await triggerReconcileRun(client, { timeoutMs: timeoutSeconds * 1000 });
    process.stdout.write(`${JSON.stringify({ workflow_id: run.workflowId, run_id: run.runId, ...run.report }, null, 2)}\n`);
    if (run.report.needingAttention > 0) process.exitCode = NEEDS_ATTENTION_EXIT_CODE;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new Error(`There is no Schedule ${RECONCILER_SCHEDULE_ID} on ${config.temporal.address}: start the worker once (npm start), it creates it.`);
    }
    throw err;
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`reconcile: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
