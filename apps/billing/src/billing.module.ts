import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../../../libs/config/src/config';
import { ConsumerModule } from '../../../libs/consumer/src/consumer.module';
import { TOPICS } from '../../../libs/contracts/src/events';
import { OwnershipController } from './http/ownership.controller';
import { ownershipLedgerHandler } from './ledger/ownership-ledger.handler';
import { BILLING_MIGRATIONS, OwnershipStore } from './ledger/ownership.store';

/** The ownership ledger: the lifecycle topic in, who owned which disk when out. */
@Module({})
export class BillingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: BillingModule,
      imports: [
        ConsumerModule.forRoot({
          name: 'billing',
          database: { store: 'billing', target: config.databases.billing, poolMax: config.databases.poolMax },
          migrations: BILLING_MIGRATIONS,
          groupId: config.billing.consumerGroup,
          topics: [TOPICS.lifecycle],
          kafka: config.kafka,
          logLevel: config.logLevel,
          tokens: config.auth,
          store: { provide: OwnershipStore, useFactory: (db) => new OwnershipStore(db) },
          handler: ownershipLedgerHandler,
        }),
      ],
      controllers: [OwnershipController],
    };
  }
}
