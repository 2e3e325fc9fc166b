/**
 * Hosts the Temporal worker inside the Nest lifecycle: started once the
 * application is wired, drained (in-flight tasks finish) before shutdown.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { startTracing } from '../../../libs/observability/src/tracing';
import { TRANSFER_TASK_QUEUE } from '../../../libs/temporal/src/transfer.definitions';
import { workerTuning } from '../../../libs/temporal/src/worker-tuning';
import { temporalTracingPlugin, WORKFLOW_TRACING_INTERCEPTOR_MODULES } from '../../../libs/temporal/src/workflow-tracing';
import type { AppConfig } from '../../../libs/config/src/config';
import type { WorkerActivities } from './transfer-activities';
import type { TransferEventOutbox } from './transfer-event-outbox';
import { APP_CONFIG, TEMPORAL_CONNECTION, TRANSFER_ACTIVITIES, TRANSFER_EVENT_OUTBOX } from './worker.tokens';

export const WORKER_SERVICE_NAME = 'evs-worker';

const BUNDLE_PATH = path.resolve(__dirname, '../../../workflow-bundle.js');

/**
 * A workflow's next task goes first to the queue of the worker that cached
 * it. When that worker died (kill -9, a crash), the server only notices
 * after this long, so the first accept or delete of every transfer it held
 * waited 10 s (the SDK's default) before another worker took it. A few
 * seconds is enough for a live worker to pick its own tasks up.
 */
const STICKY_QUEUE_TIMEOUT = '3s';

@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TemporalWorkerService.name);
  private worker: Worker | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TRANSFER_ACTIVITIES) private readonly activities: WorkerActivities,
    @Inject(TEMPORAL_CONNECTION) private readonly connection: NativeConnection,
    @Inject(TRANSFER_EVENT_OUTBOX) private readonly events: TransferEventOutbox,
  ) {}

  isRunning(): boolean {
    return this.worker?.getState() === 'RUNNING';
  }

  async onApplicationBootstrap(): Promise<void> {
    // Events a killed worker left in the outbox leave first.
    await this.events.start();
    // A prebuilt bundle in production; the TypeScript sources when run from a checkout without a build.
    const workflows = existsSync(BUNDLE_PATH)
      ? { workflowBundle: { codePath: BUNDLE_PATH } }
      : { workflowsPath: require.resolve('../../../workflows'), interceptors: { workflowModules: WORKFLOW_TRACING_INTERCEPTOR_MODULES } };
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.temporal.namespace,
      taskQueue: TRANSFER_TASK_QUEUE,
      activities: this.activities,
      stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
      ...workerTuning(this.config.worker),
      plugins: [temporalTracingPlugin(startTracing(WORKER_SERVICE_NAME))],
      ...workflows,
    });
    this.running = this.worker.run().catch((err: unknown) => {
      // A worker that stopped polling must not linger looking alive: end the
      // process through the normal shutdown so a supervisor (or npm start) restarts it.
      this.logger.error(`worker stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    });
    this.logger.log(`worker polling task queue ${TRANSFER_TASK_QUEUE} on ${this.config.temporal.address}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    // Nothing enqueues any more; Kafka closes after this root module's hooks.
    await this.events.drain();
    // The drained worker's last spans (most of a transfer's) leave before the process does.
    await startTracing(WORKER_SERVICE_NAME).shutdown();
  }
}
