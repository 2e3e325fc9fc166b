/**
 * Hosts the Temporal worker inside the Nest lifecycle: started once the
 * application is wired, drained (in-flight tasks finish) before shutdown.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TRANSFER_TASK_QUEUE } from '../../../libs/temporal/src/transfer.definitions';
import type { AppConfig } from '../../../libs/config/src/config';
import { APP_CONFIG, TRANSFER_ACTIVITIES } from './worker.tokens';
import type { createTransferActivities } from './transfer-activities';

const BUNDLE_PATH = path.resolve(__dirname, '../../../workflow-bundle.js');

/**
 * A workflow's next task goes first to the queue of the worker that cached
 * it. When that worker died (kill -9, a crash), the server only notices
 * after this long, so the first accept or delete of every transfer it held
 * waited 10 s (the SDK's default) before another worker took it. A few
 * seconds is enough for a live worker to pick its own tasks up.
 */
const STICKY_QUEUE_TIMEOUT = '3s';

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

@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TemporalWorkerService.name);
  private connection: NativeConnection | null = null;
  private worker: Worker | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TRANSFER_ACTIVITIES) private readonly activities: ReturnType<typeof createTransferActivities>,
  ) {}

  isRunning(): boolean {
    return this.worker?.getState() === 'RUNNING';
  }

  async onApplicationBootstrap(): Promise<void> {
    installRuntimeLogger(this.logger);
    this.connection = await NativeConnection.connect({ address: this.config.temporal.address });
    // A prebuilt bundle in production; the TypeScript sources when run from a checkout without a build.
    const workflows = existsSync(BUNDLE_PATH)
      ? { workflowBundle: { codePath: BUNDLE_PATH } }
      : { workflowsPath: require.resolve('../../../workflows') };
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.temporal.namespace,
      taskQueue: TRANSFER_TASK_QUEUE,
      activities: this.activities,
      stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
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
    await this.connection?.close();
  }
}
