import { constraintViolations, diskTransferBlocker, type DiskFacts } from '../../../../libs/domain/src/disk';
import { TRANSFER_NOT_HOLDING_DISK } from '../../../../libs/inventory-client/src/inventory.wire';
import type { DiskRepository } from './disk.repository';
import type { InventoryStore } from './inventory.store';
import type { QuotaRepository } from './quota.repository';
import { refused, success, toDiskFacts, type Clock, type DiskRecord, type Outcome } from './store.types';

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
 * The three steps a transfer takes on a disk. Each is one transaction whose
 * write is a single conditional UPDATE checked by its row count, and each is
 * idempotent: the worker retries an activity whose answer it did not
 * receive, and the retry must find the work done rather than fail or do it
 * twice.
 */
export class TransferLockRepository {
  constructor(
    private readonly store: InventoryStore,
    private readonly disks: DiskRepository,
    private readonly quotas: QuotaRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Compare-and-set `available` -> `awaiting-transfer`, tagged with the
   * transfer. Every constraint is checked again here, on the held disk: what
   * the gateway checked earlier may have changed since. Of several transfers
   * racing for one disk (from several replicas), the UPDATE's guard lets
   * exactly one through.
   */
  lock({ diskId, projectId, transferId }: LockRequest): Promise<Outcome<DiskFacts>> {
    return this.store.transaction(async (trx) => {
      await this.store.holdDisk(trx, diskId);
      const disk = await this.disks.find(diskId, trx);
      const answer = lockAnswer(disk, projectId, transferId);
      if (answer !== null) return answer;
      const result = await trx
        .updateTable('disks')
        .set({ status: 'awaiting-transfer', transfer_id: transferId, updated_at: this.clock() })
        .where('id', '=', diskId)
        .where('project_id', '=', projectId)
        .where('status', '=', 'available')
        .where('transfer_id', 'is', null)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return success(toDiskFacts(await this.disks.reread(diskId, trx)));
      // Another writer changed the disk after it was read (only possible if
      // it was not held): answer from what it is now.
      return lockAnswer(await this.disks.find(diskId, trx), projectId, transferId) ?? refused('DiskAlreadyInTransfer');
    });
  }

  /** Back to `available` with the same owner, only if this transfer holds the lock. */
  release({ diskId, transferId }: ReleaseRequest): Promise<ReleaseResult> {
    return this.store.transaction(async (trx) => {
      const result = await trx
        .updateTable('disks')
        .set({ status: 'available', transfer_id: null, updated_at: this.clock() })
        .where('id', '=', diskId)
        .where('transfer_id', '=', transferId)
        .executeTakeFirst();
      const disk = await this.disks.find(diskId, trx);
      return { released: Number(result.numUpdatedRows) === 1, disk: disk === null ? null : toDiskFacts(disk) };
    });
  }

  /**
   * Moves the disk to the recipient, only for the transfer holding the lock.
   * The constraints are checked again (an operator may have frozen the disk
   * meanwhile), then the recipient's quota, held so that a create in the
   * recipient cannot fill it meanwhile; a refusal changes nothing and leaves
   * the lock held, so the transfer stays pending.
   */
  reassign({ diskId, transferId, toProjectId }: ReassignRequest): Promise<Outcome<DiskFacts>> {
    return this.store.transaction(async (trx) => {
      await this.store.holdDisk(trx, diskId);
      let disk = await this.disks.find(diskId, trx);
      if (disk === null) return refused('DiskNotFound');
      if (disk.transferId === transferId) {
        // The lock accounts for the status; every other rule must still hold.
        const violation = constraintViolations({ ...toDiskFacts(disk), status: 'available' })[0];
        if (violation !== undefined) return refused(violation);
        const quota = await this.quotas.refusalToHold(trx, toProjectId, disk.sizeGb, diskId);
        if (quota !== null) return refused(quota.name, quota.message);
        const result = await trx
          .updateTable('disks')
          .set({ project_id: toProjectId, status: 'available', transfer_id: null, last_transfer_id: transferId, updated_at: this.clock() })
          .where('id', '=', diskId)
          .where('transfer_id', '=', transferId)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) return success(toDiskFacts(await this.disks.reread(diskId, trx)));
        // The lock went elsewhere after the disk was read: answer from what it is now.
        disk = await this.disks.find(diskId, trx);
        if (disk === null) return refused('DiskNotFound');
      }
      if (disk.lastTransferId === transferId && disk.projectId === toProjectId) return success(toDiskFacts(disk));
      return refused(TRANSFER_NOT_HOLDING_DISK, `Transfer ${transferId} does not hold disk ${diskId}.`);
    });
  }
}

/**
 * What a lock request gets without writing: the disk as it is for the
 * transfer already holding it (a retry), or why it may not be locked; null
 * when the lock may be taken.
 */
function lockAnswer(disk: DiskRecord | null, projectId: string, transferId: string): Outcome<DiskFacts> | null {
  if (disk?.projectId === projectId && disk.transferId === transferId) return success(toDiskFacts(disk));
  const blocker = diskTransferBlocker(disk === null ? null : toDiskFacts(disk), projectId);
  return blocker === null ? null : refused(blocker);
}
