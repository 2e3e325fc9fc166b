/**
 * Keeps the Schedule evs-reconciler as the configuration says, at every
 * worker start. A failure is logged, not fatal: transfers do not depend on
 * the reconciler, and the next start (or any other worker's) tries again.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../../../libs/config/src/config';
import { RECONCILER_SCHEDULE_ID } from '../../../../libs/temporal/src/reconciler.definitions';
import { upsertReconcilerSchedule } from '../../../../libs/temporal/src/reconciler-schedule';
import { APP_CONFIG, TEMPORAL_CLIENT } from '../worker.tokens';

@Injectable()
export class ReconcilerScheduleService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReconcilerScheduleService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { intervalSeconds } = this.config.reconciler;
    try {
      const done = await upsertReconcilerSchedule(this.client, { intervalSeconds });
      this.logger.log(`schedule ${RECONCILER_SCHEDULE_ID} ${done}: a reconcile run every ${intervalSeconds} s`);
    } catch (err) {
      this.logger.error(
        `schedule ${RECONCILER_SCHEDULE_ID} could not be created or updated: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
}
