/**
 * The baseline's worker, a process of its own like the transfer worker, on
 * the same Temporal server, with the transfer worker's tuning (libs/temporal/src/worker-tuning.ts)
 * and stack-trace setting.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../../libs/config/src/config';
import { workerTuning } from '../../libs/temporal/src/worker-tuning';
import { runWorkflowThreadsWithoutStackTraces } from '../../libs/temporal/src/workflow-stack-traces';
import { BASELINE_TASK_QUEUE } from './baseline.definitions';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.worker.workflowStackTraces) runWorkflowThreadsWithoutStackTraces();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: BASELINE_TASK_QUEUE,
    workflowsPath: require.resolve('./baseline.workflow'),
    activities: { noop: async () => undefined },
    ...workerTuning(config.worker),
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('baseline worker ready\n');
  await running;
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
