import { Inject, Injectable } from '@nestjs/common';
import type { VolumeSummaryView, VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import { tenantHttpError } from '../http/inventory-http.error';
import type { PageQuery } from '../http/inventory.schemas';
import { DiskRepository } from '../store/disk.repository';
import type { Outcome } from '../store/store.types';
import type { CreateVolumeBody, ParsedVolumeAction } from './volume.schemas';
import { toVolumeSummaryView, toVolumeView } from './volume.view';

function orThrow<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw tenantHttpError(outcome.refusal);
  return outcome.value;
}

@Injectable()
export class VolumeService {
  constructor(@Inject(DiskRepository) private readonly disks: DiskRepository) {}

  async create(projectId: string, { volume: v }: CreateVolumeBody): Promise<{ volume: VolumeView }> {
    const disk = orThrow(
      await this.disks.create(projectId, {
        id: v.id,
        name: v.name ?? null,
        sizeGb: v.size,
        volumeType: v.volume_type ?? 'SSD',
        bootable: v.bootable ?? false,
        encrypted: v.encrypted ?? false,
        billingMode: v.billing_mode ?? 'postpaid',
        frozen: v.frozen ?? false,
        storageKind: v.storage_kind ?? 'shared',
        backupPolicyId: v.backup_policy_id ?? null,
        replicationPairId: v.replication_pair_id ?? null,
        status: v.status ?? 'available',
      }),
    );
    return { volume: toVolumeView(disk) };
  }

  async show(projectId: string, volumeId: string): Promise<{ volume: VolumeView }> {
    const disk = await this.disks.findOwned(projectId, volumeId);
    if (disk === null) throw tenantHttpError({ name: 'DiskNotFound' });
    return { volume: toVolumeView(disk) };
  }

  async list(projectId: string, page: PageQuery): Promise<{ volumes: VolumeSummaryView[] }> {
    return { volumes: (await this.disks.list(projectId, page)).map(toVolumeSummaryView) };
  }

  async listDetail(projectId: string, page: PageQuery): Promise<{ volumes: VolumeView[] }> {
    return { volumes: (await this.disks.list(projectId, page)).map(toVolumeView) };
  }

  async delete(projectId: string, volumeId: string): Promise<void> {
    orThrow(await this.disks.delete(projectId, volumeId));
  }

  async act(projectId: string, volumeId: string, action: ParsedVolumeAction): Promise<void> {
    switch (action.name) {
      case 'os-attach':
        orThrow(await this.disks.attach(projectId, volumeId, action.args.instance_uuid));
        return;
      case 'os-detach':
        orThrow(await this.disks.detach(projectId, volumeId));
        return;
      case 'os-extend':
        orThrow(await this.disks.extend(projectId, volumeId, action.args.new_size));
        return;
      case 'os-set-backup-policy':
        orThrow(await this.disks.setBackupPolicy(projectId, volumeId, action.args.policy_id));
        return;
      case 'os-set-encryption':
        orThrow(await this.disks.setEncryption(projectId, volumeId, action.args.encrypted));
        return;
      case 'os-change-billing':
        orThrow(await this.disks.changeBilling(projectId, volumeId, action.args.billing_mode));
        return;
      case 'os-freeze':
        orThrow(await this.disks.setFrozen(projectId, volumeId, action.args.frozen));
        return;
    }
  }
}
