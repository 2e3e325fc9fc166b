/**
 * Activities that call the disk inventory. Each inventory step is idempotent,
 * so Temporal may retry any of them; business refusals come back as values
 * (the workflow decides what they mean), transport failures as thrown errors
 * (Temporal retries them).
 */
import type { DiskFacts } from '../libs/domain/src/disk';
import type { ErrorName } from '../libs/domain/src/errors';
import type { InventoryClient, LockResult, ReleaseResult } from '../libs/inventory-client/src/inventory.client';
import { activityLog } from './activity-log';

/** What the workflow learns from a reassign: the client's answer, with "the lock is gone" reported as Internal. */
export type ReassignOutcome = { ok: true; disk: DiskFacts } | { ok: false; reason: ErrorName };

/** The narrow slice of the inventory client the transfer needs. */
export type InventoryTransferPort = Pick<InventoryClient, 'lockForTransfer' | 'releaseTransferLock' | 'reassign'>;

export function createInventoryActivities(deps: { inventory: InventoryTransferPort }) {
  return {
    async lockDiskForTransfer(input: { diskId: string; projectId: string; transferId: string }): Promise<LockResult> {
      return deps.inventory.lockForTransfer(input);
    },

    /** Where the disk is afterwards: after an abandoned accept, the workflow must know whether it had moved. */
    async releaseDiskTransferLock(input: { diskId: string; transferId: string }): Promise<ReleaseResult> {
      return deps.inventory.releaseTransferLock(input);
    },

    async reassignDisk(input: { diskId: string; transferId: string; toProjectId: string }): Promise<ReassignOutcome> {
      const outcome = await deps.inventory.reassign(input);
      if (outcome.ok) return outcome;
      // The lock vanished under the transfer (an operator released it by hand):
      // nothing moved, and the caller can do nothing about it.
      if (outcome.reason === 'TransferNotHoldingDisk') {
        activityLog('warn', 'the transfer no longer holds the lock on its disk: the disk was not moved, and the accept fails as Internal', {
          transfer_id: input.transferId,
          disk_id: input.diskId,
        });
        return { ok: false, reason: 'Internal' };
      }
      return { ok: false, reason: outcome.reason };
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
