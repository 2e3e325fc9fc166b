/**
 * The Temporal connection and client as providers. The connection is lazy:
 * the gateway starts (and serves show, list and health) while Temporal is
 * still coming up, and calls that need it answer 503 until it is reachable;
 * gRPC reconnects by itself, soon after the server returns
 * (TEMPORAL_CHANNEL_ARGS). It is closed after the HTTP server has stopped.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import type { AppConfig } from '../../../../libs/config/src/config';
import { temporalConnectionSettings } from '../../../../libs/temporal/src/connection-options';
import { APP_CONFIG, TEMPORAL_CLIENT, TEMPORAL_CONNECTION } from '../gateway.tokens';
import { TemporalTransferWorkflows } from './temporal-transfer-workflows.adapter';
import { TRANSFER_WORKFLOWS, type TransferWorkflows } from './transfer-workflows.port';

/**
 * gRPC's reconnect back-off grows to 120 s by default while the server is
 * away (1 s, then x1.6 per failed attempt); once Temporal is back, the
 * gateway would then keep answering 503 until the next attempt, up to two
 * minutes later. Capped, it reconnects within seconds of a restart.
 */
export const TEMPORAL_CHANNEL_ARGS = {
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 2000,
} as const;

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
      Connection.lazy({ ...temporalConnectionSettings(config.temporal), channelArgs: TEMPORAL_CHANNEL_ARGS }),
  },
  {
    provide: TEMPORAL_CLIENT,
    inject: [TEMPORAL_CONNECTION, APP_CONFIG],
    useFactory: (connection: Connection, config: AppConfig): Client =>
      new Client({
        connection,
        namespace: config.temporal.namespace,
        // Starts, updates and signals carry the request's trace context to the workflow (a no-op with tracing off).
        interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
      }),
  },
  {
    provide: TRANSFER_WORKFLOWS,
    inject: [TEMPORAL_CLIENT, APP_CONFIG],
    useFactory: (client: Client, config: AppConfig): TransferWorkflows =>
      new TemporalTransferWorkflows(client, {
        updateTimeoutMs: config.gateway.updateTimeoutMs,
        validationTimeoutMs: config.gateway.validationTimeoutMs,
        logger: new Logger('TransferWorkflows'),
      }),
  },
  TemporalConnectionLifecycle,
];
