import { Module, type DynamicModule } from '@nestjs/common';
import { BackupController } from './disk-copies/backup.controller';
import { BackupService, SnapshotService } from './disk-copies/disk-copy.service';
import { SnapshotController } from './disk-copies/snapshot.controller';
import { HealthController } from './health/health.controller';
import { QuotaController } from './quotas/quota.controller';
import { QuotaService } from './quotas/quota.service';
import { InventoryStoreModule, type InventoryStoreSettings } from './store/inventory-store.module';
import { TransferStepsController } from './transfer/transfer-steps.controller';
import { TransferStepsService } from './transfer/transfer-steps.service';
import { VolumeController } from './volumes/volume.controller';
import { VolumeService } from './volumes/volume.service';

@Module({})
export class InventoryModule {
  static forRoot(settings: InventoryStoreSettings): DynamicModule {
    return {
      module: InventoryModule,
      imports: [InventoryStoreModule.forRoot(settings)],
      controllers: [
        HealthController,
        TransferStepsController,
        VolumeController,
        SnapshotController,
        BackupController,
        QuotaController,
      ],
      providers: [TransferStepsService, VolumeService, SnapshotService, BackupService, QuotaService],
    };
  }
}
