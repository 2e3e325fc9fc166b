/**
 * The Temporal connection and client as providers. The connection is lazy:
 * the gateway starts (and serves show, list and health) while Temporal is
 * still coming up, and calls that need it answer 503 until it is reachable;
 * gRPC reconnects by itself. It is closed after the HTTP server has stopped.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../../../../libs/config/src/config';
import { APP_CONFIG, TEMPORAL_CLIENT, TEMPORAL_CONNECTION } from '../gateway.tokens';
import { TemporalTransferWorkflows } from './temporal-transfer-workflows.adapter';
import { TRANSFER_WORKFLOWS, type TransferWorkflows } from './transfer-workflows.port';

@Injectable()
export class TemporalConnectionLifecycle implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL_CONNECTION) private readonly connection: Connection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

export const temporalProviders: Provider[] = [
  {
    provide: TEMPORAL_CONNECTION,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): Connection =>
      Connection.lazy({ address: config.temporal.address }),
  },
  {
    provide: TEMPORAL_CLIENT,
    inject: [TEMPORAL_CONNECTION, APP_CONFIG],
    useFactory: (connection: Connection, config: AppConfig): Client =>
      new Client({ connection, namespace: config.temporal.namespace }),
  },
  {
    provide: TRANSFER_WORKFLOWS,
    inject: [TEMPORAL_CLIENT, APP_CONFIG],
    useFactory: (client: Client, config: AppConfig): TransferWorkflows =>
      new TemporalTransferWorkflows(client, {
        updateTimeoutMs: config.gateway.updateTimeoutMs,
        logger: new Logger('TransferWorkflows'),
      }),
  },
  TemporalConnectionLifecycle,
];
