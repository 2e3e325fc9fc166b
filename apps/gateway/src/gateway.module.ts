import { openOrExit } from '../../../libs/database/src/open-or-exit';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AppConfig } from '../../../libs/config/src/config';
import { KafkaModule } from '../../../libs/kafka/src/kafka.module';
import { MetricsController } from '../../../libs/observability/src/metrics.controller';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import { API_AUDIT_OPTIONS, ApiAuditService, AUDIT_OUTBOX, DEFAULT_API_AUDIT_OPTIONS } from './audit/api-audit.service';
import { AuditOutbox } from './audit/audit-outbox';
import { authProviders } from './auth/auth.providers';
import { APP_CONFIG } from './gateway.tokens';
import { HealthController } from './health/health.controller';
import { HttpErrorFilter } from './http/http-error.filter';
import { temporalProviders } from './temporal/temporal.providers';
import { guardsProviders } from './guards/guards.providers';
import { readModelProviders } from './transfers/read-model.providers';
import { TransferController } from './transfers/transfer.controller';
import { TransferService } from './transfers/transfer.service';
import { VersionsController } from './versions/versions.controller';
import { VolumeController } from './volumes/volume.controller';
import { VolumeService } from './volumes/volume.service';
import { volumeInventoryProviders } from './volumes/volume-inventory.providers';

/** How long shutdown waits for the audit outbox to reach Kafka; what is left is sent at the next start. */
const AUDIT_DRAIN_TIMEOUT_MS = 5000;

/**
 * Orderly shutdown (enableShutdownHooks): stop taking requests and let
 * in-flight ones finish, then flush the audit records they left, and only
 * then let Kafka, Temporal and the read model close (their hooks run after
 * this root module's); the audit outbox closes last.
 */
@Injectable()
export class GatewayShutdown implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('GatewayShutdown');

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ApiAuditService) private readonly audit: ApiAuditService,
    @Inject(AUDIT_OUTBOX) private readonly outbox: AuditOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopServing(this.config.gateway.updateTimeoutMs + 2000);
    await this.audit.drain(AUDIT_DRAIN_TIMEOUT_MS);
  }

  /** Closes the audit outbox once nothing writes to it any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.outbox.close();
  }

  private async stopServing(graceMs: number): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn(`requests still in flight after ${graceMs} ms; closing their connections`);
        server.closeAllConnections();
        resolve();
      }, graceMs);
    });
    try {
      await Promise.race([closed, grace]);
    } finally {
      clearTimeout(timer);
    }
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig): DynamicModule {
    const metrics = new ProcessMetrics();
    return {
      module: GatewayModule,
      imports: [KafkaModule.forRoot({ config, global: false, metrics })],
      controllers: [TransferController, VolumeController, VersionsController, HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: ProcessMetrics, useValue: metrics },
        { provide: API_AUDIT_OPTIONS, useValue: { ...DEFAULT_API_AUDIT_OPTIONS, ...config.outboxRelay } },
        {
          provide: AUDIT_OUTBOX,
          useFactory: () => openOrExit(() => AuditOutbox.open(config.databases.gatewayOutbox, { poolMax: config.databases.poolMax })),
        },
        ApiAuditService,
        TransferService,
        VolumeService,
        ...volumeInventoryProviders,
        ...authProviders,
        ...readModelProviders,
        ...guardsProviders,
        ...temporalProviders,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        GatewayShutdown,
      ],
    };
  }
}
