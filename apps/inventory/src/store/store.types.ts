/**
 * What the repositories hand back: records in domain terms (camelCase, epoch
 * milliseconds) and outcomes that name a refusal instead of throwing, so a
 * caller must decide what each refusal means on its API.
 */
import type { DiskFacts } from '../../../../libs/domain/src/disk';
import type { InventoryErrorName } from '../../../../libs/inventory-client/src/inventory.wire';
import type { DisksTable } from './inventory.schema';

export type Clock = () => number;

/** A live (not deleted) disk with everything the tenant API shows. */
export interface DiskRecord extends DiskFacts {
  name: string | null;
  attachedTo: string | null;
  lastTransferId: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Exactly the DiskFacts fields, so the internal API sends nothing more. */
export function toDiskFacts(d: DiskRecord): DiskFacts {
  return {
    id: d.id,
    projectId: d.projectId,
    status: d.status,
    sizeGb: d.sizeGb,
    volumeType: d.volumeType,
    bootable: d.bootable,
    encrypted: d.encrypted,
    snapshotCount: d.snapshotCount,
    backupCount: d.backupCount,
    backupPolicyId: d.backupPolicyId,
    replicationPairId: d.replicationPairId,
    billingMode: d.billingMode,
    frozen: d.frozen,
    storageKind: d.storageKind,
    transferId: d.transferId,
  };
}

/** A disk row with the snapshot and backup counts the reads join in. */
export interface DiskRow extends Omit<DisksTable, 'deleted_at'> {
  snapshot_count: number | string | null;
  backup_count: number | string | null;
}

export function diskRecordFromRow(r: DiskRow): DiskRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    status: r.status,
    sizeGb: r.size_gb,
    volumeType: r.volume_type,
    bootable: r.bootable === 1,
    encrypted: r.encrypted === 1,
    snapshotCount: Number(r.snapshot_count ?? 0),
    backupCount: Number(r.backup_count ?? 0),
    backupPolicyId: r.backup_policy_id,
    replicationPairId: r.replication_pair_id,
    billingMode: r.billing_mode,
    frozen: r.frozen === 1,
    storageKind: r.storage_kind,
    transferId: r.transfer_id,
    lastTransferId: r.last_transfer_id,
    attachedTo: r.attached_to,
    createdAtMs: r.created_at,
    updatedAtMs: r.updated_at,
  };
}

export interface Refusal {
  name: InventoryErrorName;
  /** A more precise message than the catalogue's, where one helps. */
  message?: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function refused<T = never>(name: InventoryErrorName, message?: string): Outcome<T> {
  return { ok: false, refusal: message === undefined ? { name } : { name, message } };
}
