import { toCinderTimestamp } from '../../../../libs/domain/src/ids';
import type { VolumeSummaryView, VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import type { DiskRecord } from '../store/store.types';

export function toVolumeView(d: DiskRecord): VolumeView {
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    size: d.sizeGb,
    volume_type: d.volumeType,
    bootable: d.bootable ? 'true' : 'false',
    encrypted: d.encrypted,
    'os-vol-tenant-attr:tenant_id': d.projectId,
    project_id: d.projectId,
    billing_mode: d.billingMode,
    frozen: d.frozen,
    storage_kind: d.storageKind,
    backup_policy_id: d.backupPolicyId,
    replication_pair_id: d.replicationPairId,
    attachments: d.attachedTo === null ? [] : [{ id: d.id, volume_id: d.id, server_id: d.attachedTo }],
    snapshot_count: d.snapshotCount,
    backup_count: d.backupCount,
    created_at: toCinderTimestamp(d.createdAtMs),
    updated_at: toCinderTimestamp(d.updatedAtMs),
  };
}

export function toVolumeSummaryView(d: DiskRecord): VolumeSummaryView {
  return { id: d.id, name: d.name };
}
