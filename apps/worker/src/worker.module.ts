/** Wires the worker: config, the three ports its activities need, the Temporal worker and its health check. */
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { loadOrCreateServiceSecret } from '../../../libs/auth/src/service-signature';
import { loadConfig, type AppConfig } from '../../../libs/config/src/config';
import { InventoryClient } from '../../../libs/inventory-client/src/inventory.client';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { KafkaModule } from '../../../libs/kafka/src/kafka.module';
import { TransferReadModel } from '../../../libs/read-model/src/transfer-read-model';
import { WorkerHealthServer } from './health.server';
import { TemporalWorkerService } from './temporal-worker.service';
import { createTransferActivities } from './transfer-activities';
import { APP_CONFIG, TRANSFER_ACTIVITIES } from './worker.tokens';

const READ_MODEL = Symbol('READ_MODEL');

@Module({
  imports: [KafkaModule.forRoot()],
  providers: [
    { provide: APP_CONFIG, useFactory: (): AppConfig => loadConfig() },
    {
      provide: READ_MODEL,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => TransferReadModel.open(config.readModel.dbPath),
    },
    {
      provide: TRANSFER_ACTIVITIES,
      inject: [APP_CONFIG, READ_MODEL, EVENT_PUBLISHER],
      useFactory: (config: AppConfig, readModel: TransferReadModel, publisher: EventPublisher) =>
        createTransferActivities({
          inventory: new InventoryClient(config.inventory.url, {
            serviceSecret: loadOrCreateServiceSecret(config.inventory.serviceSecretFile),
          }),
          readModel,
          publisher,
        }),
    },
    TemporalWorkerService,
    WorkerHealthServer,
  ],
})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(READ_MODEL) private readonly readModel: TransferReadModel) {}

  onApplicationShutdown(): void {
    this.readModel.close();
  }
}
