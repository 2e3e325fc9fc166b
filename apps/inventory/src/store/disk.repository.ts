import { randomUUID } from 'node:crypto';
import {
  OPERATIONS_REFUSED_DURING_TRANSFER,
  type BillingMode,
  type GuardedDiskOperation,
  type StorageKind,
} from '../../../../libs/domain/src/disk';
import type { CreatableStatus } from '../../../../libs/inventory-client/src/inventory.wire';
import type { QuotaRepository } from './quota.repository';
import type { Sql } from './sql';
import {
  diskRecordFromRow,
  refused,
  success,
  type Clock,
  type DiskRecord,
  type DiskRow,
  type Outcome,
} from './store.types';

/** Every tenant operation on one disk; the domain decides which are refused during a transfer. */
export type DiskOperation = GuardedDiskOperation | 'detach' | 'freeze';

function isRefusedDuringTransfer(operation: DiskOperation): boolean {
  return (OPERATIONS_REFUSED_DURING_TRANSFER as readonly string[]).includes(operation);
}

export interface NewDisk {
  id?: string;
  name: string | null;
  sizeGb: number;
  volumeType: string;
  bootable: boolean;
  encrypted: boolean;
  billingMode: BillingMode;
  frozen: boolean;
  storageKind: StorageKind;
  backupPolicyId: string | null;
  replicationPairId: string | null;
  status: CreatableStatus;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface KeyPage {
  /** The last id of the previous page; null for the first. */
  after: string | null;
  limit: number;
}

/** A live disk with the snapshot and backup counts the constraints need. */
const SELECT_LIVE_DISK = `
  SELECT d.*,
         (SELECT count(*) FROM snapshots s WHERE s.disk_id = d.id) AS snapshot_count,
         (SELECT count(*) FROM backups b WHERE b.disk_id = d.id) AS backup_count
    FROM disks d
   WHERE d.deleted_at IS NULL`;

const asFlag = (value: boolean): number => (value ? 1 : 0);

/**
 * Disks and the tenant operations on them. Each mutation is one IMMEDIATE
 * transaction that reads the disk, checks, and writes, so a check cannot be
 * overtaken by another writer (a transfer lock taken between a snapshot's
 * check and its insert, say).
 */
export class DiskRepository {
  constructor(
    private readonly sql: Sql,
    private readonly quotas: QuotaRepository,
    private readonly clock: Clock,
  ) {}

  find(diskId: string): DiskRecord | null {
    const row = this.sql.get<DiskRow>(`${SELECT_LIVE_DISK} AND d.id = ?`, diskId);
    return row === undefined ? null : diskRecordFromRow(row);
  }

  /** The disk if it is live and `projectId` owns it; another project's disk is not found. */
  findOwned(projectId: string, diskId: string): DiskRecord | null {
    const disk = this.find(diskId);
    return disk !== null && disk.projectId === projectId ? disk : null;
  }

  list(projectId: string, page: Page): DiskRecord[] {
    return this.sql
      .all<DiskRow>(
        `${SELECT_LIVE_DISK} AND d.project_id = ? ORDER BY d.created_at, d.id LIMIT ? OFFSET ?`,
        projectId,
        page.limit,
        page.offset,
      )
      .map(diskRecordFromRow);
  }

  /**
   * Every project's disks awaiting transfer, in id order, after `after`.
   * Paged by key rather than offset: a lock released while a caller walks
   * the pages does not shift the ones it has not read yet.
   */
  listAwaitingTransfer(page: KeyPage): DiskRecord[] {
    return this.sql
      .all<DiskRow>(
        `${SELECT_LIVE_DISK} AND d.status = 'awaiting-transfer' AND d.id > ? ORDER BY d.id LIMIT ?`,
        page.after ?? '',
        page.limit,
      )
      .map(diskRecordFromRow);
  }

  create(projectId: string, disk: NewDisk): Outcome<DiskRecord> {
    return this.sql.immediate(() => {
      const id = disk.id ?? randomUUID();
      // Deleted disks keep their rows, so an id is never handed out twice.
      if (this.sql.get('SELECT 1 FROM disks WHERE id = ?', id) !== undefined) {
        return refused('BadRequest', `A volume with id ${id} already exists or existed.`);
      }
      const quota = this.quotas.refusalToHold(projectId, disk.sizeGb);
      if (quota !== null) return refused(quota.name, quota.message);
      const now = this.clock();
      this.sql.run(
        `INSERT INTO disks (id, project_id, name, status, size_gb, volume_type, bootable, encrypted,
                            backup_policy_id, replication_pair_id, billing_mode, frozen, storage_kind,
                            transfer_id, last_transfer_id, attached_to, created_at, updated_at, deleted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, NULL)`,
        id,
        projectId,
        disk.name,
        disk.status,
        disk.sizeGb,
        disk.volumeType,
        asFlag(disk.bootable),
        asFlag(disk.encrypted),
        disk.backupPolicyId,
        disk.replicationPairId,
        disk.billingMode,
        asFlag(disk.frozen),
        disk.storageKind,
        now,
        now,
      );
      return success(this.reread(id));
    });
  }

  /**
   * Runs `work` on a live disk of `projectId` inside one IMMEDIATE
   * transaction, after refusing what the domain forbids while the disk is
   * awaiting transfer. Snapshots and backups use it too.
   */
  withDisk<T>(
    projectId: string,
    diskId: string,
    operation: DiskOperation,
    work: (disk: DiskRecord) => Outcome<T>,
  ): Outcome<T> {
    return this.sql.immediate(() => {
      const disk = this.findOwned(projectId, diskId);
      if (disk === null) return refused('DiskNotFound');
      if (disk.status === 'awaiting-transfer' && isRefusedDuringTransfer(operation)) {
        const message = `Volume ${diskId} is awaiting transfer; ${operation} is refused until the transfer ends.`;
        return refused('DiskBusy', message);
      }
      return work(disk);
    });
  }

  /** Leaves a tombstone (status 'deleting', deleted_at set); usage no longer counts it. */
  delete(projectId: string, diskId: string): Outcome<void> {
    return this.withDisk(projectId, diskId, 'delete', (disk) => {
      if (disk.status === 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is attached; detach it before deleting it.`);
      }
      if (disk.snapshotCount > 0) {
        return refused('DiskHasSnapshots', `Volume ${diskId} has snapshots; delete them before deleting it.`);
      }
      const now = this.clock();
      this.sql.run(
        `UPDATE disks SET status = 'deleting', deleted_at = ?, updated_at = ? WHERE id = ?`,
        now,
        now,
        diskId,
      );
      return success(undefined);
    });
  }

  attach(projectId: string, diskId: string, serverId: string): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'attach', (disk) => {
      if (disk.status === 'in-use' && disk.attachedTo === serverId) return success(disk);
      if (disk.status !== 'available') {
        const message = `Volume ${diskId} is ${disk.status}; only an available volume can be attached.`;
        return refused('DiskStatusNotAvailable', message);
      }
      this.sql.run(
        `UPDATE disks SET status = 'in-use', attached_to = ?, updated_at = ? WHERE id = ?`,
        serverId,
        this.clock(),
        diskId,
      );
      return success(this.reread(diskId));
    });
  }

  detach(projectId: string, diskId: string): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'detach', (disk) => {
      if (disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}, not attached.`);
      }
      this.sql.run(
        `UPDATE disks SET status = 'available', attached_to = NULL, updated_at = ? WHERE id = ?`,
        this.clock(),
        diskId,
      );
      return success(this.reread(diskId));
    });
  }

  extend(projectId: string, diskId: string, newSizeGb: number): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'extend', (disk) => {
      if (disk.status !== 'available' && disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}; it cannot be extended.`);
      }
      if (newSizeGb <= disk.sizeGb) {
        return refused('BadRequest', `new_size must be greater than the current size (${disk.sizeGb} GB).`);
      }
      const quota = this.quotas.refusalToHold(projectId, newSizeGb, diskId);
      if (quota !== null) return refused(quota.name, quota.message);
      this.sql.run('UPDATE disks SET size_gb = ?, updated_at = ? WHERE id = ?', newSizeGb, this.clock(), diskId);
      return success(this.reread(diskId));
    });
  }

  setBackupPolicy(projectId: string, diskId: string, policyId: string | null): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'set-backup-policy', () => {
      const sql = 'UPDATE disks SET backup_policy_id = ?, updated_at = ? WHERE id = ?';
      this.sql.run(sql, policyId, this.clock(), diskId);
      return success(this.reread(diskId));
    });
  }

  setEncryption(projectId: string, diskId: string, encrypted: boolean): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'encrypt', () => {
      const sql = 'UPDATE disks SET encrypted = ?, updated_at = ? WHERE id = ?';
      this.sql.run(sql, asFlag(encrypted), this.clock(), diskId);
      return success(this.reread(diskId));
    });
  }

  changeBilling(projectId: string, diskId: string, billingMode: BillingMode): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'change-billing', () => {
      this.sql.run('UPDATE disks SET billing_mode = ?, updated_at = ? WHERE id = ?', billingMode, this.clock(), diskId);
      return success(this.reread(diskId));
    });
  }

  /** Not refused during a transfer: an operator may freeze any disk; reassign then refuses it. */
  setFrozen(projectId: string, diskId: string, frozen: boolean): Outcome<DiskRecord> {
    return this.withDisk(projectId, diskId, 'freeze', () => {
      this.sql.run('UPDATE disks SET frozen = ?, updated_at = ? WHERE id = ?', asFlag(frozen), this.clock(), diskId);
      return success(this.reread(diskId));
    });
  }

  /** Reads a disk this transaction has just written; its absence is a bug, not an outcome. */
  reread(diskId: string): DiskRecord {
    const disk = this.find(diskId);
    if (disk === null) throw new Error(`Disk ${diskId} vanished inside its own transaction`);
    return disk;
  }
}
