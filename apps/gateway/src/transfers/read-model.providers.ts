import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { openOrExit } from '../../../../libs/database/src/open-or-exit';
import type { AppConfig } from '../../../../libs/config/src/config';
import { TransferReadModel } from '../../../../libs/read-model/src/transfer-read-model';
import { APP_CONFIG, TRANSFER_READ_MODEL } from '../gateway.tokens';

/** Closes the read model's connections after the HTTP server has stopped. */
@Injectable()
export class ReadModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(TRANSFER_READ_MODEL) private readonly readModel: TransferReadModel) {}

  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
  }
}

/**
 * The worker writes the read model; the gateway only reads it. Opening
 * creates the schema if the gateway starts first.
 */
export const readModelProviders: Provider[] = [
  {
    provide: TRANSFER_READ_MODEL,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) =>
      openOrExit(() => TransferReadModel.open(config.databases.readModel, { poolMax: config.databases.poolMax })),
  },
  ReadModelLifecycle,
];
