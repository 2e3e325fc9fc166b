import { constraintViolations, diskTransferBlocker, type DiskFacts } from '../../../../libs/domain/src/disk';
import { TRANSFER_NOT_HOLDING_DISK } from '../../../../libs/inventory-client/src/inventory.wire';
import type { DiskRepository } from './disk.repository';
import type { QuotaRepository } from './quota.repository';
import type { Sql } from './sql';
import { refused, success, toDiskFacts, type Clock, type Outcome } from './store.types';

export interface LockRequest {
  diskId: string;
  projectId: string;
  transferId: string;
}

export interface ReleaseRequest {
  diskId: string;
  transferId: string;
}

export interface ReassignRequest {
  diskId: string;
  transferId: string;
  toProjectId: string;
}

export interface ReleaseResult {
  released: boolean;
  disk: DiskFacts | null;
}

/**
 * The three steps a transfer takes on a disk. Each is one IMMEDIATE
 * transaction, and each is idempotent: the worker retries an activity whose
 * answer it did not receive, and the retry must find the work done rather
 * than fail or do it twice.
 */
export class TransferLockRepository {
  constructor(
    private readonly sql: Sql,
    private readonly disks: DiskRepository,
    private readonly quotas: QuotaRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Compare-and-set `available` -> `awaiting-transfer`, tagged with the
   * transfer. Every constraint is checked again here, inside the transaction:
   * what the gateway checked earlier may have changed since.
   */
  lock({ diskId, projectId, transferId }: LockRequest): Outcome<DiskFacts> {
    return this.sql.immediate(() => {
      const disk = this.disks.find(diskId);
      if (disk?.projectId === projectId && disk.transferId === transferId) return success(toDiskFacts(disk));
      const blocker = diskTransferBlocker(disk === null ? null : toDiskFacts(disk), projectId);
      if (blocker !== null) return refused(blocker);
      const changed = this.sql.run(
        `UPDATE disks SET status = 'awaiting-transfer', transfer_id = ?, updated_at = ?
          WHERE id = ? AND project_id = ? AND status = 'available' AND transfer_id IS NULL AND deleted_at IS NULL`,
        transferId,
        this.clock(),
        diskId,
        projectId,
      );
      if (changed !== 1) throw new Error(`Lock of disk ${diskId} changed ${changed} rows after its checks passed`);
      return success(toDiskFacts(this.disks.reread(diskId)));
    });
  }

  /** Back to `available` with the same owner, only if this transfer holds the lock. */
  release({ diskId, transferId }: ReleaseRequest): ReleaseResult {
    return this.sql.immediate(() => {
      const disk = this.disks.find(diskId);
      if (disk === null) return { released: false, disk: null };
      if (disk.transferId !== transferId) return { released: false, disk: toDiskFacts(disk) };
      this.sql.run(
        `UPDATE disks SET status = 'available', transfer_id = NULL, updated_at = ? WHERE id = ? AND transfer_id = ?`,
        this.clock(),
        diskId,
        transferId,
      );
      return { released: true, disk: toDiskFacts(this.disks.reread(diskId)) };
    });
  }

  /**
   * Moves the disk to the recipient, only for the transfer holding the lock.
   * The constraints are checked again (an operator may have frozen the disk
   * meanwhile), then the recipient's quota; a refusal changes nothing and
   * leaves the lock held, so the transfer stays pending.
   */
  reassign({ diskId, transferId, toProjectId }: ReassignRequest): Outcome<DiskFacts> {
    return this.sql.immediate(() => {
      const disk = this.disks.find(diskId);
      if (disk === null) return refused('DiskNotFound');
      if (disk.transferId === transferId) {
        // The lock accounts for the status; every other rule must still hold.
        const violation = constraintViolations({ ...toDiskFacts(disk), status: 'available' })[0];
        if (violation !== undefined) return refused(violation);
        const quota = this.quotas.refusalToHold(toProjectId, disk.sizeGb, diskId);
        if (quota !== null) return refused(quota.name, quota.message);
        this.sql.run(
          `UPDATE disks
              SET project_id = ?, status = 'available', transfer_id = NULL, last_transfer_id = ?, updated_at = ?
            WHERE id = ? AND transfer_id = ?`,
          toProjectId,
          transferId,
          this.clock(),
          diskId,
          transferId,
        );
        return success(toDiskFacts(this.disks.reread(diskId)));
      }
      if (disk.lastTransferId === transferId && disk.projectId === toProjectId) return success(toDiskFacts(disk));
      return refused(TRANSFER_NOT_HOLDING_DISK, `Transfer ${transferId} does not hold disk ${diskId}.`);
    });
  }
}
