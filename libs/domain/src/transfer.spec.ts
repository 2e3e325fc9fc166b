import { describe, expect, it } from 'vitest';
import { transferableDisk } from './disk.fixtures';
import {
  type Actor,
  decide,
  DEFAULT_TRANSFER_POLICY,
  digestsEqual,
  evolveAll,
  initialState,
  type TransferCommand,
  type TransferEvent,
  type TransferRequest,
  type TransferState,
} from './transfer';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const owner: Actor = { projectId: 'project-a', userId: 'alice', requestId: 'req-create' };
const bob: Actor = { projectId: 'project-b', userId: 'bob', requestId: 'req-accept' };
const disk = transferableDisk({ status: 'awaiting-transfer', sizeGb: 40, transferId: 'tr-1' });
const request: TransferRequest = {
  transferId: 'tr-1',
  volumeId: disk.id,
  name: 't1',
  owner,
  createdAtMs: T0,
  authKeyHash: 'aa11',
  policy: { ...DEFAULT_TRANSFER_POLICY, maxFailedAccepts: 3, lockoutBaseMs: 60_000, lockoutMaxMs: 200_000 },
};

/** given: events that already happened; when: a command; then: events or an error. */
function given(...events: TransferEvent[]) {
  const state = evolveAll(initialState(request), events);
  return {
    state,
    when(command: TransferCommand) {
      const decision = decide(state, command);
      return {
        thenEvents: (types: string[]) => expect(decision.events.map((e) => e.type)).toEqual(types),
        thenError: (name: string) => {
          expect(decision.error?.name).toBe(name);
          return decision;
        },
        decision,
        next: evolveAll(state, decision.events),
      };
    },
  };
}

const created: TransferEvent = { type: 'TransferCreated', at: T0, disk };
const accept = (actor: Actor, hash: string, now = T0 + 1000): TransferCommand => ({ kind: 'Accept', actor, authKeyHash: hash, now });
/** The lock was this transfer's and is given back. */
const released_ = (now: number): TransferCommand => ({ kind: 'RecordDiskReleased', now, released: true, disk: { ...disk, status: 'available', transferId: null } });
const admin: Actor = { projectId: 'project-ops', userId: 'root-admin', requestId: 'req-force' };
const forceDelete = (now = T0 + 1000): TransferCommand => ({ kind: 'ForceDelete', actor: admin, now });
const accepting: TransferEvent = { type: 'AcceptStarted', at: T0, recipient: bob };

describe('transfer decider', () => {
  it('becomes pending once the disk is locked', () => {
    const { next } = given().when({ kind: 'RecordDiskLocked', disk, now: T0 });
    expect(next.status).toBe('pending');
    expect(next.expiresAtMs).toBe(T0 + DEFAULT_TRANSFER_POLICY.timeToLiveMs);
  });

  it('is rejected with the reason the inventory gave', () => {
    const { next } = given().when({ kind: 'RecordDiskLockRefused', reason: 'DiskEncrypted', now: T0 });
    expect(next.status).toBe('rejected');
    expect(next.rejection).toBe('DiskEncrypted');
  });

  it('starts accepting with the right key from another project', () => {
    const w = given(created).when(accept(bob, 'aa11'));
    w.thenEvents(['AcceptStarted']);
    expect(w.next.status).toBe('accepting');
    expect(w.next.recipient).toEqual(bob);
  });

  it('counts a wrong key and reports it, staying pending', () => {
    const w = given(created).when(accept(bob, 'bb22'));
    w.thenEvents(['AcceptAttemptFailed']);
    w.thenError('InvalidAuthKey');
    expect(w.next.status).toBe('pending');
    expect(w.next.totalFailedAccepts).toBe(1);
  });

  it('locks out after the threshold and refuses even the right key until the lock-out ends', () => {
    const failed = (n: number): TransferEvent => ({
      type: 'AcceptAttemptFailed',
      at: T0,
      actor: bob,
      reason: 'InvalidAuthKey',
      attempt: n,
    });
    const w = given(created, failed(1), failed(2)).when(accept(bob, 'bad', T0 + 5000));
    w.thenEvents(['AcceptAttemptFailed', 'TransferLockedOut']);
    const lockedOut = w.next;
    expect(lockedOut.lockedUntilMs).toBe(T0 + 5000 + 60_000);

    const during = decide(lockedOut, accept(bob, 'aa11', T0 + 6000));
    expect(during.error).toEqual({ name: 'TooManyFailedAttempts', details: { retryAfterSeconds: 59 } });
    expect(during.events).toEqual([]);

    const after = decide(lockedOut, accept(bob, 'aa11', T0 + 65_001));
    expect(after.events.map((e) => e.type)).toEqual(['AcceptStarted']);
  });

  it('doubles the lock-out each time, up to the maximum', () => {
    let state: TransferState = evolveAll(initialState(request), [created]);
    const lockouts: number[] = [];
    let now = T0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) {
        const d = decide(state, accept(bob, 'bad', now));
        state = evolveAll(state, d.events);
      }
      lockouts.push((state.lockedUntilMs ?? 0) - now);
      now = (state.lockedUntilMs ?? now) + 1;
    }
    expect(lockouts).toEqual([60_000, 120_000, 200_000, 200_000]);
  });

  it('refuses the owner accepting its own transfer', () => {
    given(created).when(accept(owner, 'aa11')).thenError('AcceptOwnTransfer');
  });

  it('answers busy to a second accept while the first is moving the disk', () => {
    const accepting = { type: 'AcceptStarted', at: T0, recipient: bob } as const;
    given(created, accepting).when(accept({ ...bob, requestId: 'other' }, 'aa11')).thenError('TransferBusy');
  });

  it('answers not found once the transfer has ended, whoever asks', () => {
    const accepted: TransferEvent = { type: 'TransferAccepted', at: T0, recipient: bob, disk };
    given(created, { type: 'AcceptStarted', at: T0, recipient: bob }, accepted)
      .when(accept({ ...bob, projectId: 'project-c' }, 'aa11'))
      .thenError('TransferNotFound');
    given(created, { type: 'AcceptStarted', at: T0, recipient: bob }, accepted)
      .when({ kind: 'Delete', actor: owner, now: T0 })
      .thenError('TransferNotFound');
  });

  it('refuses an accept that arrives at the moment of expiry, even before the timer fired', () => {
    given(created).when(accept(bob, 'aa11', request.createdAtMs + request.policy.timeToLiveMs)).thenError('TransferNotFound');
  });

  it('puts a quota refusal back to pending so the recipient can retry', () => {
    const w = given(created, { type: 'AcceptStarted', at: T0, recipient: bob }).when({
      kind: 'RecordDiskReassignRefused',
      reason: 'QuotaExceeded',
      now: T0,
    });
    w.thenEvents(['AcceptAborted']);
    expect(w.next.status).toBe('pending');
    expect(decide(w.next, accept(bob, 'aa11')).events.map((e) => e.type)).toEqual(['AcceptStarted']);
  });

  it('lets only the owner delete, and hides the transfer from others', () => {
    given(created).when({ kind: 'Delete', actor: bob, now: T0 }).thenError('TransferNotFound');
    const w = given(created).when({ kind: 'Delete', actor: owner, now: T0 });
    w.thenEvents(['DeleteStarted']);
    const released = decide(w.next, released_(T0 + 1));
    expect(released.events).toEqual([{ type: 'TransferDeleted', at: T0 + 1, actor: owner, forced: false }]);
  });

  it('refuses delete while an accept is moving the disk, and accept while a delete is releasing it', () => {
    given(created, { type: 'AcceptStarted', at: T0, recipient: bob })
      .when({ kind: 'Delete', actor: owner, now: T0 })
      .thenError('TransferBusy');
    given(created, { type: 'DeleteStarted', at: T0, actor: owner, forced: false }).when(accept(bob, 'aa11')).thenError('TransferNotFound');
  });

  it('expires only when pending and due', () => {
    const due = request.createdAtMs + request.policy.timeToLiveMs;
    given(created).when({ kind: 'Expire', now: due - 1 }).thenEvents([]);
    const w = given(created).when({ kind: 'Expire', now: due });
    w.thenEvents(['ExpiryStarted']);
    expect(decide(w.next, released_(due)).events.map((e) => e.type)).toEqual([
      'TransferExpired',
    ]);
    given(created, { type: 'AcceptStarted', at: T0, recipient: bob }).when({ kind: 'Expire', now: due }).thenEvents([]);
  });

  it('has exactly one terminal outcome: late commands after an end change nothing', () => {
    const ended = evolveAll(initialState(request), [
      created,
      { type: 'AcceptStarted', at: T0, recipient: bob },
      { type: 'TransferAccepted', at: T0, recipient: bob, disk },
    ]);
    const late: TransferCommand[] = [
      { kind: 'Expire', now: T0 + 10 ** 12 },
      released_(T0),
      { kind: 'RecordDiskReleased', now: T0, released: false, disk: { ...disk, projectId: bob.projectId, transferId: null } },
      { kind: 'RecordDiskReassigned', disk, now: T0 },
      { kind: 'ForceDelete', actor: admin, now: T0 },
      { kind: 'RecordDiskLocked', disk, now: T0 },
    ];
    for (const command of late) expect(decide(ended, command).events).toEqual([]);
  });
});

describe('force-delete (an administrator’s)', () => {
  it('deletes a pending transfer of any project, naming the administrator, once the disk is given back to its owner', () => {
    const w = given(created).when(forceDelete());
    w.thenEvents(['DeleteStarted']);
    expect(w.next).toMatchObject({ status: 'deleting', deletedBy: admin, deleteForced: true });
    expect(decide(w.next, released_(T0 + 2000)).events).toEqual([{ type: 'TransferDeleted', at: T0 + 2000, actor: admin, forced: true }]);
  });

  it('cuts short an accept stuck moving the disk: deleted when the lock is given back', () => {
    const w = given(created, accepting).when(forceDelete());
    w.thenEvents(['DeleteStarted']);
    expect(w.next.recipient).toEqual(bob);
    const released = evolveAll(w.next, decide(w.next, released_(T0 + 2000)).events);
    expect(released).toMatchObject({ status: 'deleted', deletedBy: admin });
  });

  it('says accepted, not deleted, when the cut-short accept had in fact moved the disk to the recipient', () => {
    const w = given(created, accepting).when(forceDelete());
    const theirs = { ...disk, projectId: bob.projectId, status: 'available' as const, transferId: null };
    const found = decide(w.next, { kind: 'RecordDiskReleased', now: T0 + 2000, released: false, disk: theirs });
    expect(found.events).toEqual([{ type: 'TransferAccepted', at: T0 + 2000, recipient: bob, disk: theirs }]);
    expect(evolveAll(w.next, found.events).status).toBe('accepted');
    // The reassign's own answer arriving after the force-delete says the same.
    expect(decide(w.next, { kind: 'RecordDiskReassigned', disk: theirs, now: T0 + 2000 }).events.map((e) => e.type)).toEqual([
      'TransferAccepted',
    ]);
  });

  it('still says deleted when the lock was gone but the disk stayed with its owner', () => {
    const w = given(created, accepting).when(forceDelete());
    const ownersAgain = { ...disk, status: 'available' as const, transferId: null };
    const outcome = decide(w.next, { kind: 'RecordDiskReleased', now: T0 + 2000, released: false, disk: ownersAgain });
    expect(outcome.events.map((e) => e.type)).toEqual(['TransferDeleted']);
    const noDisk = decide(w.next, { kind: 'RecordDiskReleased', now: T0 + 2000, released: false, disk: null });
    expect(noDisk.events.map((e) => e.type)).toEqual(['TransferDeleted']);
  });

  it('ignores a refused reassign that answers after the force-delete: the release decides', () => {
    const w = given(created, accepting).when(forceDelete());
    expect(decide(w.next, { kind: 'RecordDiskReassignRefused', reason: 'Internal', now: T0 + 2000 }).events).toEqual([]);
  });

  it('never says accepted for an owner’s own delete, whatever the release finds', () => {
    const w = given(created).when({ kind: 'Delete', actor: owner, now: T0 });
    const elsewhere = { ...disk, projectId: bob.projectId, transferId: null };
    expect(decide(w.next, { kind: 'RecordDiskReleased', now: T0, released: false, disk: elsewhere }).events.map((e) => e.type)).toEqual([
      'TransferDeleted',
    ]);
  });

  it('leaves a deletion or expiry under way to finish (busy), and refuses what is not or no longer pending', () => {
    given(created, { type: 'DeleteStarted', at: T0, actor: owner, forced: false }).when(forceDelete()).thenError('TransferBusy');
    given(created, { type: 'ExpiryStarted', at: T0 }).when(forceDelete()).thenError('TransferBusy');
    given().when(forceDelete()).thenError('TransferNotFound');
    given(created, accepting, { type: 'TransferAccepted', at: T0, recipient: bob, disk }).when(forceDelete()).thenError('TransferAlreadyAccepted');
    given(created, { type: 'DeleteStarted', at: T0, actor: owner, forced: false }, { type: 'TransferDeleted', at: T0, actor: owner, forced: false })
      .when(forceDelete())
      .thenError('TransferNotFound');
    given(created).when(forceDelete(request.createdAtMs + request.policy.timeToLiveMs)).thenError('TransferNotFound');
  });

  it('refuses the owner’s delete and an accept once a force-delete has started', () => {
    const w = given(created).when(forceDelete());
    expect(decide(w.next, { kind: 'Delete', actor: owner, now: T0 }).error?.name).toBe('TransferNotFound');
    expect(decide(w.next, accept(bob, 'aa11')).error?.name).toBe('TransferNotFound');
    expect(decide(w.next, forceDelete()).error?.name).toBe('TransferBusy');
  });
});

describe('digestsEqual', () => {
  it('compares whole strings', () => {
    expect(digestsEqual('abcd', 'abcd')).toBe(true);
    expect(digestsEqual('abcd', 'abce')).toBe(false);
    expect(digestsEqual('abcd', 'abc')).toBe(false);
    expect(digestsEqual('', 'a')).toBe(false);
  });
});
