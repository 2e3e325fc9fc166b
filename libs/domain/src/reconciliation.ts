/**
 * The reconciler's judgement, pure: given what the inventory and Temporal
 * showed, and in which order they were read, which disagreements are real,
 * and which one of them may be repaired without a person.
 *
 * The one repair is releasing a lock, which the inventory does only while the
 * named transfer still holds it and which gives the disk back to the owner it
 * already has. It is made only when no workflow will ever act on that lock
 * again and the transfer provably did not end by moving the disk. Everything
 * else is reported: an automatic fix there would have to guess which of two
 * records (Temporal's or the inventory's) is the true one.
 */
import type { DiskFacts } from './disk';
import type { TransferStatus } from './transfer';

/** How a transfer's workflow run stands; anything Temporal reports that is not plainly closed counts as running. */
export type WorkflowRunStatus = 'running' | 'completed' | 'failed' | 'terminated' | 'timed_out' | 'canceled';

/** The endings the read model (show and list) records; the workflow writes them before it ends. */
export type RecordedTransferStatus = 'pending' | 'accepted' | 'deleted' | 'expired';

/** What the checks need of a disk: who owns it and which transfer, if any, holds it. */
export type DiskLockView = Pick<DiskFacts, 'id' | 'projectId' | 'status' | 'transferId'>;

export function diskLockView(disk: DiskFacts): DiskLockView {
  return { id: disk.id, projectId: disk.projectId, status: disk.status, transferId: disk.transferId };
}

export type TransferWorkflowObservation =
  | {
      found: false;
      /**
       * What the read model holds for the transfer. A closed workflow is
       * deleted after the namespace's retention, and then this is the only
       * trace left of how it ended.
       */
      recordedStatus: RecordedTransferStatus | null;
    }
  | {
      found: true;
      run: WorkflowRunStatus;
      /** The workflow's last EvsTransferState; null when it never set one. */
      state: TransferStatus | null;
      diskId: string | null;
      sourceProjectId: string | null;
      destinationProjectId: string | null;
    };

/**
 * A disk the inventory listed as locked by `transferId`, then the transfer's
 * workflow looked up, then (when that found no running workflow) the disk
 * read again. The second read matters: a transfer that finished between the
 * listing and the lookup has released its lock by the time it is closed.
 */
export interface LockedDiskCheck {
  diskId: string;
  transferId: string;
  workflow: TransferWorkflowObservation;
  /** The latest read of the disk: after the lookup, or the listing itself when the workflow runs. Null: no such disk now. */
  disk: DiskLockView | null;
}

/**
 * A transfer Temporal listed as pending, then its disk read, then its
 * workflow looked up again. A transfer holds its lock from the moment it is
 * pending until it ends (an aborted accept keeps it), so one still pending
 * at the lookup held the lock when the disk was read: a disk that disagrees
 * is a real finding, not an accept or delete that happened in between.
 */
export interface PendingTransferCheck {
  transferId: string;
  diskId: string;
  sourceProjectId: string;
  disk: DiskLockView | null;
  workflow: TransferWorkflowObservation;
}

export const FINDING_KINDS = [
  /** Locked by a transfer that has no workflow at all. */
  'orphaned_lock',
  /** Locked by a transfer whose workflow has closed. */
  'lock_outlived_transfer',
  /** Locked by a transfer that ended by moving the disk: the inventory and the published outcome disagree. */
  'accepted_transfer_still_locked',
  /** Locked by a transfer whose workflow is about another disk or another owner. */
  'lock_disagrees_with_transfer',
  /** A pending transfer's disk no longer exists. */
  'pending_transfer_disk_missing',
  /** A pending transfer's disk is locked by another transfer. */
  'pending_transfer_lock_taken',
  /** A pending transfer's disk belongs to another project. */
  'pending_transfer_owner_changed',
  /** A pending transfer's disk is not locked any more. */
  'pending_transfer_lock_lost',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export type Repair = 'release_lock';

export interface ReconcileFinding {
  kind: FindingKind;
  transferId: string;
  diskId: string;
  /** The repair the reconciler makes itself; null: reported for a person to decide. */
  repair: Repair | null;
  /** The inventory's side, as last read. */
  disk: { projectId: string; status: DiskFacts['status']; transferId: string | null } | null;
  /** Temporal's side. */
  workflow: TransferWorkflowObservation;
}

/**
 * What came of a finding's repair: the lock released; or left, because the
 * transfer was found running after all (a workflow reset); or the finding is
 * reported only.
 */
export type FindingOutcome = 'released' | 'release_skipped_transfer_running' | 'reported';

/** What a release attempt answered, as the repair activity reports it. */
export type ReleaseAttempt = 'released' | 'lock_already_gone' | 'transfer_running';

function finding(
  kind: FindingKind,
  ids: { transferId: string; diskId: string },
  disk: DiskLockView | null,
  workflow: TransferWorkflowObservation,
  repair: Repair | null = null,
): ReconcileFinding {
  return {
    kind,
    transferId: ids.transferId,
    diskId: ids.diskId,
    repair,
    disk: disk === null ? null : { projectId: disk.projectId, status: disk.status, transferId: disk.transferId },
    workflow,
  };
}

/** Whether the workflow is provably about another disk or another owner than this one. */
function workflowDisagrees(workflow: Extract<TransferWorkflowObservation, { found: true }>, disk: DiskLockView): boolean {
  return (
    (workflow.diskId !== null && workflow.diskId !== disk.id) ||
    (workflow.sourceProjectId !== null && workflow.sourceProjectId !== disk.projectId)
  );
}

/** The verdict on one locked disk; null when there is nothing to say. */
export function checkLockedDisk(check: LockedDiskCheck): ReconcileFinding | null {
  const { workflow, disk } = check;
  const ids = { transferId: check.transferId, diskId: check.diskId };
  if (workflow.found && workflow.run === 'running') {
    // A running transfer's disk is never touched. A transfer locks only its
    // own disk of its own owner, and only a reassign (which also unlocks)
    // changes the owner, so a mismatch here is not a race.
    if (disk !== null && disk.transferId === check.transferId && workflowDisagrees(workflow, disk)) {
      return finding('lock_disagrees_with_transfer', ids, disk, workflow);
    }
    return null;
  }
  // No workflow will act on this lock again; the disk was read after that was seen.
  if (disk === null || disk.transferId !== check.transferId) return null;
  if (workflow.found) {
    if (workflowDisagrees(workflow, disk)) return finding('lock_disagrees_with_transfer', ids, disk, workflow);
    // The disk was moved (the accepted event is out), yet the old owner's lock is back:
    // only a restored or edited inventory does that, and a person must say which side is right.
    if (workflow.state === 'accepted') return finding('accepted_transfer_still_locked', ids, disk, workflow);
    // Without a recorded state nothing proves the disk never moved.
    if (workflow.state === null) return finding('lock_outlived_transfer', ids, disk, workflow);
    // Any other state means the disk never moved: the disk goes back to the owner it has.
    return finding('lock_outlived_transfer', ids, disk, workflow, 'release_lock');
  }
  // The workflow may have been deleted after retention; the read model remembers an accept.
  if (workflow.recordedStatus === 'accepted') return finding('accepted_transfer_still_locked', ids, disk, workflow);
  return finding('orphaned_lock', ids, disk, workflow, 'release_lock');
}

/** The verdict on one pending transfer; null when its disk is locked by it, as it should be. */
export function checkPendingTransfer(check: PendingTransferCheck): ReconcileFinding | null {
  const { workflow, disk } = check;
  // Only a transfer still pending after its disk was read must have held the lock at that read.
  if (!workflow.found || workflow.run !== 'running' || workflow.state !== 'pending') return null;
  if (workflow.diskId !== null && workflow.diskId !== check.diskId) return null;
  const ids = { transferId: check.transferId, diskId: check.diskId };
  if (disk === null) return finding('pending_transfer_disk_missing', ids, disk, workflow);
  if (disk.transferId === check.transferId && disk.projectId === check.sourceProjectId) return null;
  if (disk.transferId !== null && disk.transferId !== check.transferId) {
    return finding('pending_transfer_lock_taken', ids, disk, workflow);
  }
  if (disk.projectId !== check.sourceProjectId) return finding('pending_transfer_owner_changed', ids, disk, workflow);
  return finding('pending_transfer_lock_lost', ids, disk, workflow);
}

/**
 * What a finding comes to once its repair (if any) was tried. Null: the
 * lock was already gone when the release came, so the disagreement resolved
 * itself (usually the transfer's own release, seen half-way) and there is
 * nothing to report.
 */
export function settleFinding(finding: ReconcileFinding, attempt: ReleaseAttempt | null): FindingOutcome | null {
  if (finding.repair === null || attempt === null) return 'reported';
  switch (attempt) {
    case 'released':
      return 'released';
    case 'lock_already_gone':
      return null;
    case 'transfer_running':
      return 'release_skipped_transfer_running';
  }
}

const WHAT: Record<FindingKind, string> = {
  orphaned_lock: 'is locked by a transfer that has no workflow',
  lock_outlived_transfer: 'is still locked by a transfer whose workflow has closed',
  accepted_transfer_still_locked: "is locked under its old owner by a transfer that ended accepted (the disk should be the recipient's)",
  lock_disagrees_with_transfer: 'is locked by a transfer whose workflow names another disk or owner',
  pending_transfer_disk_missing: 'no longer exists, yet its transfer is pending',
  pending_transfer_lock_taken: 'is locked by another transfer, yet this transfer is pending',
  pending_transfer_owner_changed: 'belongs to another project than the one transferring it',
  pending_transfer_lock_lost: 'is no longer locked, yet its transfer is pending',
};

const DONE: Record<FindingOutcome, string> = {
  released: 'the lock was released; the disk stays with its owner',
  release_skipped_transfer_running: 'not released: the transfer was running again when the release came',
  reported: 'left as it is for an operator',
};

/** One line for people: the Temporal UI and the event's summary. */
export function describeFinding(finding: ReconcileFinding, outcome: FindingOutcome): string {
  const owner = finding.disk === null ? '' : ` (project ${finding.disk.projectId})`;
  const advice = finding.kind.startsWith('pending_transfer_')
    ? '; it cannot be accepted, and deleting it (an administrator may force-delete it) or its expiry ends it without touching the disk'
    : '';
  return `Disk ${finding.diskId}${owner} ${WHAT[finding.kind]}: transfer ${finding.transferId}; ${DONE[outcome]}${advice}.`;
}

/** Whether a person has to look at it. */
export function needsAttention(outcome: FindingOutcome): boolean {
  return outcome !== 'released';
}
