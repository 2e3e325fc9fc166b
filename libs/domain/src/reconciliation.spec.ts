import { describe, expect, it } from 'vitest';
import type { DiskFacts } from './disk';
import { transferableDisk } from './disk.fixtures';
import {
  checkLockedDisk,
  checkPendingTransfer,
  describeFinding,
  FINDING_KINDS,
  type FindingOutcome,
  needsAttention,
  type ReconcileFinding,
  settleFinding,
  type TransferWorkflowObservation,
  type WorkflowRunStatus,
} from './reconciliation';
import type { TransferStatus } from './transfer';

const T = '0b9d7c1a-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const OTHER_T = '7c2e4d1b-0a9f-4e3c-9b8a-6d5c4b3a2f10';
const owner = 'project-a';
const locked = transferableDisk({ projectId: owner, status: 'awaiting-transfer', transferId: T });
const D = locked.id;

const absent = (recordedStatus: 'pending' | 'accepted' | 'deleted' | 'expired' | null = null): TransferWorkflowObservation => ({
  found: false,
  recordedStatus,
});
const workflow = (
  run: WorkflowRunStatus,
  state: TransferStatus | null,
  overrides: Partial<{ diskId: string | null; sourceProjectId: string | null; destinationProjectId: string | null }> = {},
): TransferWorkflowObservation => ({
  found: true,
  run,
  state,
  diskId: D,
  sourceProjectId: owner,
  destinationProjectId: null,
  ...overrides,
});

const lockCheck = (observed: TransferWorkflowObservation, disk: DiskFacts | null = locked) =>
  checkLockedDisk({ diskId: D, transferId: T, workflow: observed, disk });
const kindAndRepair = (f: ReconcileFinding | null) => (f === null ? null : { kind: f.kind, repair: f.repair });

describe('checkLockedDisk', () => {
  it('never has anything to repair on a disk whose transfer runs, in any state', () => {
    const states: TransferStatus[] = ['validating', 'pending', 'accepting', 'deleting', 'expiring', 'accepted', 'deleted'];
    for (const state of [...states, null]) {
      expect(lockCheck(workflow('running', state))).toBeNull();
    }
  });

  it('reports, without repairing, a running transfer locking a disk it is not about', () => {
    const otherDisk = lockCheck(workflow('running', 'pending', { diskId: 'another-disk' }));
    expect(kindAndRepair(otherDisk)).toEqual({ kind: 'lock_disagrees_with_transfer', repair: null });
    const otherOwner = lockCheck(workflow('running', 'pending', { sourceProjectId: 'project-z' }));
    expect(kindAndRepair(otherOwner)).toEqual({ kind: 'lock_disagrees_with_transfer', repair: null });
    // A workflow started without search attributes proves nothing either way.
    expect(lockCheck(workflow('running', 'pending', { diskId: null, sourceProjectId: null }))).toBeNull();
  });

  it('releases the lock of a transfer that has no workflow and no recorded accept', () => {
    for (const recorded of [null, 'pending', 'deleted', 'expired'] as const) {
      expect(kindAndRepair(lockCheck(absent(recorded)))).toEqual({ kind: 'orphaned_lock', repair: 'release_lock' });
    }
  });

  it('reports a lock whose deleted workflow is recorded as accepted, instead of handing the disk back', () => {
    expect(kindAndRepair(lockCheck(absent('accepted')))).toEqual({ kind: 'accepted_transfer_still_locked', repair: null });
  });

  it('releases the lock of a closed transfer that ended, or stopped, before the disk could move', () => {
    const runs: WorkflowRunStatus[] = ['completed', 'failed', 'terminated', 'timed_out', 'canceled'];
    const states: TransferStatus[] = ['validating', 'pending', 'accepting', 'deleting', 'expiring', 'rejected', 'deleted', 'expired'];
    for (const run of runs) {
      for (const state of states) {
        expect({ run, state, ...kindAndRepair(lockCheck(workflow(run, state))) }).toEqual({
          run,
          state,
          kind: 'lock_outlived_transfer',
          repair: 'release_lock',
        });
      }
    }
  });

  it('reports, without repairing, a lock left by a transfer that ended accepted', () => {
    for (const run of ['completed', 'terminated'] as const) {
      const f = lockCheck(workflow(run, 'accepted', { destinationProjectId: 'project-b' }));
      expect(kindAndRepair(f)).toEqual({ kind: 'accepted_transfer_still_locked', repair: null });
    }
  });

  it('does not release for a closed transfer that never recorded a state', () => {
    expect(kindAndRepair(lockCheck(workflow('terminated', null)))).toEqual({ kind: 'lock_outlived_transfer', repair: null });
  });

  it('reports, without repairing, a closed transfer about another disk or owner', () => {
    expect(kindAndRepair(lockCheck(workflow('completed', 'deleted', { diskId: 'another-disk' })))).toEqual({
      kind: 'lock_disagrees_with_transfer',
      repair: null,
    });
    expect(kindAndRepair(lockCheck(workflow('terminated', 'pending', { sourceProjectId: 'project-z' })))).toEqual({
      kind: 'lock_disagrees_with_transfer',
      repair: null,
    });
  });

  it('says nothing when the second read finds the lock gone: the transfer ended meanwhile', () => {
    const released = transferableDisk({ projectId: owner, status: 'available', transferId: null });
    const moved = transferableDisk({ projectId: 'project-b', status: 'available', transferId: null });
    const relocked = transferableDisk({ projectId: owner, status: 'awaiting-transfer', transferId: OTHER_T });
    for (const disk of [released, moved, relocked, null]) {
      expect(lockCheck(workflow('completed', 'deleted'), disk)).toBeNull();
      expect(lockCheck(workflow('completed', 'accepted'), disk)).toBeNull();
      expect(lockCheck(absent(), disk)).toBeNull();
    }
  });

  it('carries both sides of the disagreement', () => {
    const seen = workflow('terminated', 'pending');
    expect(lockCheck(seen)).toEqual({
      kind: 'lock_outlived_transfer',
      transferId: T,
      diskId: D,
      repair: 'release_lock',
      disk: { projectId: owner, status: 'awaiting-transfer', transferId: T },
      workflow: seen,
    });
  });
});

describe('checkPendingTransfer', () => {
  const pending = workflow('running', 'pending');
  const check = (disk: DiskFacts | null, observed: TransferWorkflowObservation = pending) =>
    checkPendingTransfer({ transferId: T, diskId: D, sourceProjectId: owner, disk, workflow: observed });

  it('is quiet while the disk is locked by the transfer under its owner', () => {
    expect(check(locked)).toBeNull();
  });

  it('reports each way the disk can have changed under a pending transfer, never with a repair', () => {
    const cases: [DiskFacts | null, string][] = [
      [null, 'pending_transfer_disk_missing'],
      [{ ...locked, transferId: OTHER_T }, 'pending_transfer_lock_taken'],
      [{ ...locked, projectId: 'project-z' }, 'pending_transfer_owner_changed'],
      [{ ...locked, projectId: 'project-z', status: 'available', transferId: null }, 'pending_transfer_owner_changed'],
      [{ ...locked, status: 'available', transferId: null }, 'pending_transfer_lock_lost'],
      [{ ...locked, status: 'in-use', transferId: null }, 'pending_transfer_lock_lost'],
    ];
    for (const [disk, kind] of cases) {
      expect(kindAndRepair(check(disk))).toEqual({ kind, repair: null });
    }
  });

  it('takes a transfer no longer pending at the second look as one that moved on, not as drift', () => {
    const released = { ...locked, status: 'available' as const, transferId: null };
    const states: (TransferStatus | null)[] = ['accepting', 'deleting', 'expiring', 'accepted', 'deleted', 'expired', null];
    for (const state of states) {
      expect(check(released, workflow('running', state))).toBeNull();
      expect(check(released, workflow('completed', state))).toBeNull();
    }
    expect(check(released, absent())).toBeNull();
  });

  it('leaves a transfer whose workflow names another disk than the listing to the lock-side check', () => {
    expect(check({ ...locked, transferId: null }, workflow('running', 'pending', { diskId: 'another-disk' }))).toBeNull();
  });
});

describe('settling and describing findings', () => {
  const release = lockCheck(absent())!;
  const report = lockCheck(absent('accepted'))!;

  it('keeps a released or skipped repair and drops one whose lock had already gone', () => {
    expect(settleFinding(release, 'released')).toBe('released');
    expect(settleFinding(release, 'transfer_running')).toBe('release_skipped_transfer_running');
    expect(settleFinding(release, 'lock_already_gone')).toBeNull();
    expect(settleFinding(report, null)).toBe('reported');
  });

  it('asks for attention for everything the reconciler did not fix', () => {
    const outcomes: FindingOutcome[] = ['released', 'release_skipped_transfer_running', 'reported'];
    expect(outcomes.filter(needsAttention)).toEqual(['release_skipped_transfer_running', 'reported']);
  });

  it('describes every kind with the disk, the transfer and what was done', () => {
    for (const kind of FINDING_KINDS) {
      const line = describeFinding({ ...report, kind }, 'reported');
      expect(line).toContain(D);
      expect(line).toContain(T);
      expect(line).toContain('left as it is');
    }
    expect(describeFinding(release, 'released')).toContain('the lock was released');
  });
});
