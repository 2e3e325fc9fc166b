/**
 * The reconciler's reads, its one repair, and its publishing. Reads come back
 * as observations in the order they were made (the checks in libs/domain
 * depend on that order); the workflow decides what they mean.
 *
 * A page returns only the observations the checks find something in, and
 * counts the rest: history keeps every activity's result, and with every
 * observation in it a run at 100,000 pending transfers outgrew Temporal's
 * history size limit and was terminated before it finished
 * (docs/performance.md). The workflow judges what comes back again.
 */
import type { OutgoingRecord } from '../libs/contracts/src/events';
import {
  checkLockedDisk,
  checkPendingTransfer,
  diskLockView,
  type LockedDiskCheck,
  type PendingTransferCheck,
  type RecordedTransferStatus,
  type ReleaseAttempt,
  type TransferWorkflowObservation,
} from '../libs/domain/src/reconciliation';
import type { InventoryClient } from '../libs/inventory-client/src/inventory.client';
import type { EventPublisherPort } from './event.activities';
import { activityLog } from './activity-log';

export type InventoryReconcilePort = Pick<InventoryClient, 'listTransferLocks' | 'getDisk' | 'releaseTransferLock'>;

export type FoundWorkflow = Extract<TransferWorkflowObservation, { found: true }>;

/** A transfer Temporal's visibility lists as pending, with the disk and owner of its search attributes. */
export interface ListedPendingTransfer {
  transferId: string;
  diskId: string;
  sourceProjectId: string;
}

/** Temporal's side: one transfer's workflow (strongly consistent), and the pending ones (visibility). */
export interface TransferWorkflowsPort {
  /** The workflow evs-transfer-<id> as it stands now; null when there is none. */
  describe(transferId: string): Promise<FoundWorkflow | null>;
  listPending(page: { pageToken: string | null; limit: number }): Promise<{
    transfers: ListedPendingTransfer[];
    /** Opaque; null after the last page. */
    nextPageToken: string | null;
  }>;
}

/** What the read model recorded of a transfer: the trace left once Temporal has deleted a closed workflow. */
export interface TransferRecordsPort {
  recordedStatus(transferId: string): Promise<RecordedTransferStatus | null>;
}

/** Which finding ids were already published, so a finding that persists is announced once. */
export interface FindingLedgerPort {
  /**
   * Hands `announce` the ids among `ids` never reported, in the order given,
   * and remembers them as reported if and only if it resolves. Two callers
   * at once with the same new id: one announces it, the other is handed
   * none. Resolves to the ids announced.
   */
  announceOnce(ids: readonly string[], atMs: number, announce: (fresh: string[]) => Promise<void>): Promise<string[]>;
}

/**
 * One page of locks as inspectTransferLocks saw them: the checks that find
 * something, and how many were checked. Runs started before pages were
 * filtered have results without `checked`, and every check in `checks`.
 */
export interface LockInspection {
  checks: LockedDiskCheck[];
  checked?: number;
  nextMarker: string | null;
}

/** One page of pending transfers as inspectPendingTransfers saw them, filtered the same way. */
export interface PendingInspection {
  checks: PendingTransferCheck[];
  checked?: number;
  nextPageToken: string | null;
}

/** Enough calls in flight to hide round trips, few enough to leave the inventory and Temporal to the transfers. */
const CONCURRENCY = 8;

async function mapConcurrently<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, lane));
  return results;
}

export function createReconcilerActivities(deps: {
  inventory: InventoryReconcilePort;
  workflows: TransferWorkflowsPort;
  records: TransferRecordsPort;
  ledger: FindingLedgerPort;
  publisher: EventPublisherPort;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;

  const observe = async (transferId: string): Promise<TransferWorkflowObservation> =>
    (await deps.workflows.describe(transferId)) ?? { found: false, recordedStatus: await deps.records.recordedStatus(transferId) };

  return {
    /**
     * One page of locks, each with its transfer's workflow looked up after
     * the listing and, when that workflow is not running, the disk read again.
     */
    async inspectTransferLocks(input: { marker: string | null; limit: number }): Promise<LockInspection> {
      const page = await deps.inventory.listTransferLocks({ marker: input.marker, limit: input.limit });
      // A disk awaiting transfer always names its holder (the inventory's schema ties the two).
      const locked = page.disks.flatMap((disk) => (disk.transferId === null ? [] : [{ ...disk, transferId: disk.transferId }]));
      const checks = await mapConcurrently(locked, async (listed): Promise<LockedDiskCheck> => {
        const { transferId } = listed;
        const workflow = await observe(transferId);
        const running = workflow.found && workflow.run === 'running';
        const disk = running ? listed : await deps.inventory.getDisk(listed.id);
        return { diskId: listed.id, transferId, workflow, disk: disk === null ? null : diskLockView(disk) };
      });
      return { checks: checks.filter((check) => checkLockedDisk(check) !== null), checked: checks.length, nextMarker: page.nextMarker };
    },

    /** One page of pending transfers, each with its disk read and then its workflow looked up again. */
    async inspectPendingTransfers(input: { pageToken: string | null; limit: number }): Promise<PendingInspection> {
      const page = await deps.workflows.listPending(input);
      const checks = await mapConcurrently(page.transfers, async (listed): Promise<PendingTransferCheck> => {
        const disk = await deps.inventory.getDisk(listed.diskId);
        const workflow = await observe(listed.transferId);
        return { ...listed, disk: disk === null ? null : diskLockView(disk), workflow };
      });
      return {
        checks: checks.filter((check) => checkPendingTransfer(check) !== null),
        checked: checks.length,
        nextPageToken: page.nextPageToken,
      };
    },

    /**
     * Releases the lock of a transfer the workflow judged ended. Asks Temporal
     * once more first, so a transfer brought back to life since (a reset) is
     * not robbed of its lock; the inventory releases only while this transfer
     * holds the lock, and gives the disk back to the owner it has.
     */
    async releaseLockOfEndedTransfer(input: { diskId: string; transferId: string }): Promise<ReleaseAttempt> {
      const workflow = await deps.workflows.describe(input.transferId);
      if (workflow !== null && workflow.run === 'running') return 'transfer_running';
      const { released } = await deps.inventory.releaseTransferLock(input);
      if (released) {
        activityLog('info', 'released the lock of an ended transfer: the disk stays with its owner', {
          transfer_id: input.transferId,
          disk_id: input.diskId,
        });
      }
      return released ? 'released' : 'lock_already_gone';
    },

    /**
     * Publishes the findings no earlier run published, and remembers them
     * once Kafka acknowledged them. The ledger holds its claim on the ids
     * while they are published, so an attempt running at the same time on
     * another worker (a retry after a timeout) does not publish them too. A
     * crash after the acknowledgement, before the claim is kept, publishes
     * them again with the same ids, which consumers drop.
     */
    async publishFindings(records: OutgoingRecord[]): Promise<{ published: string[] }> {
      const published = await deps.ledger.announceOnce(
        records.map((r) => r.event.id),
        now(),
        async (fresh) => {
          const toSend = new Set(fresh);
          await deps.publisher.publish(records.filter((r) => toSend.has(r.event.id)));
        },
      );
      return { published };
    },
  };
}

export type ReconcilerActivities = ReturnType<typeof createReconcilerActivities>;
