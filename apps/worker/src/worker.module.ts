/** Wires the worker: config, the ports its activities need, the Temporal worker, the reconciler's Schedule, and its health check. */
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { loadOrCreateServiceSecret } from '../../../libs/auth/src/service-signature';
import { loadConfig, type AppConfig } from '../../../libs/config/src/config';
import { openOrExit } from '../../../libs/database/src/open-or-exit';
import { InventoryClient } from '../../../libs/inventory-client/src/inventory.client';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { KafkaModule } from '../../../libs/kafka/src/kafka.module';
import { TransferReadModel } from '../../../libs/read-model/src/transfer-read-model';
import { httpClientTimer } from '../../../libs/observability/src/http-metrics';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import { WorkerHealthServer } from './health.server';
import { FindingLedger } from './reconciler/finding-ledger';
import { ReconcilerScheduleService } from './reconciler/reconciler-schedule.service';
import { TemporalTransferWorkflows } from './reconciler/temporal-transfer-workflows';
import { connectTemporal } from './temporal-connection';
import { TemporalWorkerService } from './temporal-worker.service';
import { createWorkerActivities } from './transfer-activities';
import { TransferEventOutbox } from './transfer-event-outbox';
import { APP_CONFIG, TEMPORAL_CLIENT, TEMPORAL_CONNECTION, TRANSFER_ACTIVITIES, TRANSFER_EVENT_OUTBOX } from './worker.tokens';
import { registerOutboxGauges } from '../../../libs/outbox/src/outbox-gauges';
import { DEFAULT_OUTBOX_RELAY_OPTIONS } from '../../../libs/outbox/src/outbox-relay';

const READ_MODEL = Symbol('READ_MODEL');
/** One worker per process: its metrics are the process's. */
const WORKER_METRICS = new ProcessMetrics();
const FINDING_LEDGER = Symbol('FINDING_LEDGER');

@Module({
  imports: [KafkaModule.forRoot({ metrics: WORKER_METRICS })],
  providers: [
    { provide: APP_CONFIG, useFactory: (): AppConfig => loadConfig() },
    {
      provide: READ_MODEL,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        openOrExit(() => TransferReadModel.open(config.databases.readModel, { poolMax: config.databases.poolMax })),
    },
    {
      provide: FINDING_LEDGER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => openOrExit(() => FindingLedger.open(config.databases.reconciler, { poolMax: config.databases.poolMax })),
    },
    { provide: TEMPORAL_CONNECTION, inject: [APP_CONFIG], useFactory: (config: AppConfig) => openOrExit(() => connectTemporal(config)) },
    {
      provide: TEMPORAL_CLIENT,
      inject: [APP_CONFIG, TEMPORAL_CONNECTION],
      useFactory: (config: AppConfig, connection: NativeConnection) =>
        new Client({ connection, namespace: config.temporal.namespace }),
    },
    {
      provide: TRANSFER_EVENT_OUTBOX,
      inject: [APP_CONFIG, READ_MODEL, EVENT_PUBLISHER],
      useFactory: (config: AppConfig, readModel: TransferReadModel, publisher: EventPublisher) => {
        const outbox = readModel.eventOutbox();
        registerOutboxGauges(WORKER_METRICS.registry, 'transfer-events', outbox);
        return new TransferEventOutbox(outbox, publisher, { ...DEFAULT_OUTBOX_RELAY_OPTIONS, ...config.outboxRelay });
      },
    },
    {
      provide: TRANSFER_ACTIVITIES,
      inject: [APP_CONFIG, READ_MODEL, EVENT_PUBLISHER, TEMPORAL_CLIENT, FINDING_LEDGER, TRANSFER_EVENT_OUTBOX],
      useFactory: (
        config: AppConfig,
        readModel: TransferReadModel,
        publisher: EventPublisher,
        client: Client,
        ledger: FindingLedger,
        outbox: TransferEventOutbox,
      ) =>
        createWorkerActivities({
          inventory: new InventoryClient(config.inventory.url, {
            serviceSecret: loadOrCreateServiceSecret(config.inventory.serviceSecretFile),
            observe: httpClientTimer(WORKER_METRICS.registry),
          }),
          readModel,
          records: { recordedStatus: async (transferId) => (await readModel.findAnyProject(transferId))?.status ?? null },
          publisher,
          outbox,
          workflows: new TemporalTransferWorkflows(client, config.temporal.namespace),
          ledger,
        }),
    },
    TemporalWorkerService,
    ReconcilerScheduleService,
    { provide: ProcessMetrics, useValue: WORKER_METRICS },
    WorkerHealthServer,
  ],
})
export class WorkerModule implements OnApplicationShutdown {
  constructor(
    @Inject(READ_MODEL) private readonly readModel: TransferReadModel,
    @Inject(FINDING_LEDGER) private readonly ledger: FindingLedger,
    @Inject(TEMPORAL_CONNECTION) private readonly connection: NativeConnection,
  ) {}

  /** After the worker has drained (TemporalWorkerService, before shutdown): nothing uses these any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
    await this.ledger.close();
    await this.connection.close();
  }
}
