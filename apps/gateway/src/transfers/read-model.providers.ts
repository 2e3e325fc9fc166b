import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { AppConfig } from '../../../../libs/config/src/config';
import { TransferReadModel } from '../../../../libs/read-model/src/transfer-read-model';
import { APP_CONFIG, TRANSFER_READ_MODEL } from '../gateway.tokens';

/** Closes the read model's SQLite handle after the HTTP server has stopped. */
@Injectable()
export class ReadModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(TRANSFER_READ_MODEL) private readonly readModel: TransferReadModel) {}

  onApplicationShutdown(): void {
    this.readModel.close();
  }
}

/**
 * The worker writes the read model; the gateway only reads it. Opening
 * creates the file and schema if the gateway starts first.
 */
export const readModelProviders: Provider[] = [
  {
    provide: TRANSFER_READ_MODEL,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => TransferReadModel.open(config.readModel.dbPath),
  },
  ReadModelLifecycle,
];
