import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from '../../../libs/observability/src/metrics.controller';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import { ServiceRequestVerifier } from '../../../libs/auth/src/service-signature';
import type { CredentialVerifier } from '../../../libs/auth/src/token-verifier';
import { BackupController } from './disk-copies/backup.controller';
import { BackupService, SnapshotService } from './disk-copies/disk-copy.service';
import { SnapshotController } from './disk-copies/snapshot.controller';
import { HealthController } from './health/health.controller';
import { ServiceCredentialsGuard, TENANT_TOKEN_VERIFIER, TenantAccessGuard } from './http/inventory-auth.guards';
import { QuotaController } from './quotas/quota.controller';
import { QuotaService } from './quotas/quota.service';
import { InventoryStoreModule, type InventoryStoreSettings } from './store/inventory-store.module';
import { InventoryStore } from './store/inventory.store';
import { TransferLocksController } from './transfer/transfer-locks.controller';
import { TransferStepsController } from './transfer/transfer-steps.controller';
import { TransferStepsService } from './transfer/transfer-steps.service';
import { ProjectVolumesController } from './volumes/project-volumes.controller';
import { VolumeController } from './volumes/volume.controller';
import { VolumeService } from './volumes/volume.service';

/** The credentials the inventory checks, loaded by the caller (main.ts from config, tests their own). */
export interface InventoryAuthSettings {
  /** The service secret (config.inventory.serviceSecretFile) that signs internal-API calls. */
  serviceSecret: Buffer;
  /** Verifies the tenant API's X-Auth-Token. */
  tokenVerifier: CredentialVerifier;
  /** Epoch milliseconds for signature dates; tests may pass their own. */
  clock?: () => number;
}

export interface InventorySettings {
  store: InventoryStoreSettings;
  auth: InventoryAuthSettings;
}

@Module({})
export class InventoryModule {
  static forRoot(settings: InventorySettings): DynamicModule {
    const { auth } = settings;
    return {
      module: InventoryModule,
      imports: [InventoryStoreModule.forRoot(settings.store)],
      controllers: [
        HealthController,
        MetricsController,
        TransferStepsController,
        TransferLocksController,
        VolumeController,
        ProjectVolumesController,
        SnapshotController,
        BackupController,
        QuotaController,
      ],
      providers: [
        { provide: ProcessMetrics, useValue: new ProcessMetrics() },
        {
          provide: ServiceRequestVerifier,
          inject: [InventoryStore],
          useFactory: (store: InventoryStore) => new ServiceRequestVerifier(auth.serviceSecret, auth.clock, store.nonceGuard()),
        },
        { provide: TENANT_TOKEN_VERIFIER, useValue: auth.tokenVerifier },
        ServiceCredentialsGuard,
        TenantAccessGuard,
        TransferStepsService,
        VolumeService,
        SnapshotService,
        BackupService,
        QuotaService,
      ],
    };
  }
}
