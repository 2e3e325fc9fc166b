import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OPERATIONS_REFUSED_DURING_TRANSFER,
  TRANSFER_RULES,
  type DiskFacts,
  type GuardedDiskOperation,
} from '../../../../libs/domain/src/disk';
import { transferableDisk } from '../../../../libs/domain/src/disk.fixtures';
import type { ErrorName } from '../../../../libs/domain/src/errors';
import type { NewDisk } from './disk.repository';
import { createInventoryRepositories, type InventoryRepositories } from './inventory.repositories';
import { openInventoryDatabase } from './inventory.store';
import type { DiskRecord, Outcome } from './store.types';

const A = 'project-a';
const B = 'project-b';

function refusalName<T>(outcome: Outcome<T>): string | null {
  return outcome.ok ? null : outcome.refusal.name;
}

function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.refusal.name}: ${outcome.refusal.message ?? ''}`);
  return outcome.value;
}

describe('inventory repositories (real SQLite file)', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  let repos: InventoryRepositories;
  let now: number;
  const clock = () => now;
  const defaultQuota = { volumes: 10, gigabytes: 1000 };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inventory-repo-'));
    file = path.join(dir, 'inventory.sqlite');
    db = openInventoryDatabase(file);
    now = Date.UTC(2026, 0, 2, 3, 4, 5);
    repos = createInventoryRepositories(db, { defaultQuota, clock });
  });

  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const newDisk = (overrides: Partial<NewDisk> = {}): NewDisk => ({
    name: 'data',
    sizeGb: 10,
    volumeType: 'SSD',
    bootable: false,
    encrypted: false,
    billingMode: 'postpaid',
    frozen: false,
    storageKind: 'shared',
    backupPolicyId: null,
    replicationPairId: null,
    status: 'available',
    ...overrides,
  });

  const createDisk = (overrides: Partial<NewDisk> = {}, projectId = A): DiskRecord =>
    valueOf(repos.disks.create(projectId, newDisk(overrides)));

  const current = (diskId: string): DiskRecord => {
    const disk = repos.disks.find(diskId);
    if (disk === null) throw new Error(`disk ${diskId} not found`);
    return disk;
  };

  const lock = (diskId: string, transferId: string, projectId = A) =>
    repos.transferLocks.lock({ diskId, projectId, transferId });

  describe('lock for transfer', () => {
    it('moves an available disk to awaiting-transfer, tagged with the transfer, and answers DiskFacts exactly', () => {
      const disk = createDisk();
      const transferId = randomUUID();
      now += 1000;
      const facts = valueOf(lock(disk.id, transferId));
      const expected: DiskFacts = transferableDisk({ id: disk.id, projectId: A, status: 'awaiting-transfer', transferId });
      expect(facts).toStrictEqual(expected);
      expect(current(disk.id).updatedAtMs).toBe(now);
    });

    it('is idempotent for the transfer that holds the lock', () => {
      const disk = createDisk();
      const transferId = randomUUID();
      const first = valueOf(lock(disk.id, transferId));
      const before = current(disk.id);
      now += 5000;
      expect(valueOf(lock(disk.id, transferId))).toStrictEqual(first);
      expect(current(disk.id)).toStrictEqual(before);
    });

    it('refuses a second transfer with DiskAlreadyInTransfer and keeps the first holder', () => {
      const disk = createDisk();
      const first = randomUUID();
      valueOf(lock(disk.id, first));
      expect(refusalName(lock(disk.id, randomUUID()))).toBe('DiskAlreadyInTransfer');
      expect(current(disk.id).transferId).toBe(first);
    });

    it('reports a missing, deleted or other project disk as DiskNotFound', () => {
      expect(refusalName(lock(randomUUID(), randomUUID()))).toBe('DiskNotFound');
      const theirs = createDisk({}, B);
      expect(refusalName(lock(theirs.id, randomUUID(), A))).toBe('DiskNotFound');
      const gone = createDisk();
      valueOf(repos.disks.delete(A, gone.id));
      expect(refusalName(lock(gone.id, randomUUID()))).toBe('DiskNotFound');
    });

    /** Each case builds a disk breaking one rule; together they must cover the whole table. */
    const constraintCases: { rule: string; error: ErrorName; make: () => DiskRecord }[] = [
      { rule: 'status creating', error: 'DiskStatusNotAvailable', make: () => createDisk({ status: 'creating' }) },
      { rule: 'status error', error: 'DiskStatusNotAvailable', make: () => createDisk({ status: 'error' }) },
      {
        rule: 'status in-use',
        error: 'DiskStatusNotAvailable',
        make: () => {
          const d = createDisk();
          return valueOf(repos.disks.attach(A, d.id, randomUUID()));
        },
      },
      { rule: 'data disk only', error: 'DiskIsSystemDisk', make: () => createDisk({ bootable: true }) },
      { rule: 'encryption', error: 'DiskEncrypted', make: () => createDisk({ encrypted: true }) },
      {
        rule: 'snapshots',
        error: 'DiskHasSnapshots',
        make: () => {
          const d = createDisk();
          valueOf(repos.snapshots.create(A, d.id, 'snap'));
          return current(d.id);
        },
      },
      {
        rule: 'backups',
        error: 'DiskHasBackups',
        make: () => {
          const d = createDisk();
          valueOf(repos.backups.create(A, d.id, 'bak'));
          return current(d.id);
        },
      },
      { rule: 'backup policy', error: 'DiskHasBackupPolicy', make: () => createDisk({ backupPolicyId: randomUUID() }) },
      {
        rule: 'replication',
        error: 'DiskInReplicationPair',
        make: () => createDisk({ replicationPairId: randomUUID() }),
      },
      { rule: 'billing', error: 'DiskPrepaid', make: () => createDisk({ billingMode: 'prepaid' }) },
      { rule: 'frozen', error: 'DiskFrozen', make: () => createDisk({ frozen: true }) },
      { rule: 'dedicated storage', error: 'DiskOnDedicatedStorage', make: () => createDisk({ storageKind: 'dss' }) },
      { rule: 'dedicated storage', error: 'DiskOnDedicatedStorage', make: () => createDisk({ storageKind: 'dess' }) },
    ];

    it('covers every rule of the constraint table', () => {
      const covered = new Set(constraintCases.map((c) => c.error));
      expect(TRANSFER_RULES.filter((r) => !covered.has(r.error)).map((r) => r.rule)).toEqual([]);
    });

    it.each(constraintCases)('refuses rule "$rule" with $error and changes nothing', ({ error, make }) => {
      const disk = make();
      expect(refusalName(lock(disk.id, randomUUID()))).toBe(error);
      expect(current(disk.id)).toStrictEqual(disk);
    });

    it('is a compare-and-set across connections: of two transfers, exactly one wins', () => {
      const disk = createDisk();
      const other = openInventoryDatabase(file);
      try {
        const otherRepos = createInventoryRepositories(other, { defaultQuota, clock });
        const [t1, t2] = [randomUUID(), randomUUID()];
        const outcomes = [
          lock(disk.id, t1),
          otherRepos.transferLocks.lock({ diskId: disk.id, projectId: A, transferId: t2 }),
        ];
        expect(outcomes.map(refusalName)).toEqual([null, 'DiskAlreadyInTransfer']);
        expect(otherRepos.disks.find(disk.id)?.transferId).toBe(t1);
      } finally {
        other.close();
      }
    });
  });

  describe('release the lock', () => {
    it('returns the disk to available with the same owner, once', () => {
      const disk = createDisk();
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      const released = repos.transferLocks.release({ diskId: disk.id, transferId });
      expect(released.released).toBe(true);
      expect(released.disk).toMatchObject({ status: 'available', projectId: A, transferId: null });

      const again = repos.transferLocks.release({ diskId: disk.id, transferId });
      expect(again).toStrictEqual({ released: false, disk: released.disk });
    });

    it('never touches a disk held by another transfer', () => {
      const disk = createDisk();
      const holder = randomUUID();
      valueOf(lock(disk.id, holder));
      const before = current(disk.id);
      const result = repos.transferLocks.release({ diskId: disk.id, transferId: randomUUID() });
      expect(result.released).toBe(false);
      expect(result.disk?.transferId).toBe(holder);
      expect(current(disk.id)).toStrictEqual(before);
    });

    it('answers released=false for a disk never locked, and disk=null for an unknown one', () => {
      const disk = createDisk();
      expect(repos.transferLocks.release({ diskId: disk.id, transferId: randomUUID() })).toMatchObject({
        released: false,
        disk: { id: disk.id, status: 'available' },
      });
      expect(repos.transferLocks.release({ diskId: randomUUID(), transferId: randomUUID() })).toStrictEqual({
        released: false,
        disk: null,
      });
    });
  });

  describe('list the disks awaiting transfer', () => {
    it('lists every project\'s locked disks in id order, page by page after a key, and nothing else', () => {
      const lockedIds = [A, A, B].map((project) => {
        const disk = createDisk({}, project);
        valueOf(lock(disk.id, randomUUID(), project));
        return disk.id;
      });
      createDisk();
      const released = createDisk();
      const holder = randomUUID();
      valueOf(lock(released.id, holder));
      repos.transferLocks.release({ diskId: released.id, transferId: holder });

      const sorted = [...lockedIds].sort();
      const first = repos.disks.listAwaitingTransfer({ after: null, limit: 2 });
      expect(first.map((d) => d.id)).toEqual(sorted.slice(0, 2));
      const rest = repos.disks.listAwaitingTransfer({ after: first[1].id, limit: 2 });
      expect(rest.map((d) => d.id)).toEqual(sorted.slice(2));
      expect(rest[0]).toMatchObject({ status: 'awaiting-transfer', transferId: expect.any(String) });
      expect(repos.disks.listAwaitingTransfer({ after: sorted[2], limit: 2 })).toEqual([]);
    });

    it('does not shift later pages when a listed lock is released between pages', () => {
      const ids = [0, 1, 2, 3].map(() => {
        const disk = createDisk();
        const transferId = randomUUID();
        valueOf(lock(disk.id, transferId));
        return { id: disk.id, transferId };
      });
      ids.sort((x, y) => x.id.localeCompare(y.id));
      const first = repos.disks.listAwaitingTransfer({ after: null, limit: 2 });
      repos.transferLocks.release({ diskId: ids[0].id, transferId: ids[0].transferId });
      const second = repos.disks.listAwaitingTransfer({ after: first[1].id, limit: 2 });
      expect([...first, ...second].map((d) => d.id)).toEqual(ids.map((d) => d.id));
    });
  });

  describe('reassign', () => {
    const reassign = (diskId: string, transferId: string, toProjectId = B) =>
      repos.transferLocks.reassign({ diskId, transferId, toProjectId });

    it('moves the disk and its quota usage to the recipient, available, lock cleared', () => {
      const disk = createDisk({ sizeGb: 30 });
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      const facts = valueOf(reassign(disk.id, transferId));
      expect(facts).toMatchObject({ id: disk.id, projectId: B, status: 'available', transferId: null });
      expect(current(disk.id).lastTransferId).toBe(transferId);
      expect(repos.quotas.usage(A)).toEqual({ volumes: 0, gigabytes: 0 });
      expect(repos.quotas.usage(B)).toEqual({ volumes: 1, gigabytes: 30 });
      expect(repos.disks.findOwned(A, disk.id)).toBeNull();
    });

    it('is idempotent: a retry by the same transfer answers the same disk', () => {
      const disk = createDisk();
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      const first = valueOf(reassign(disk.id, transferId));
      now += 1000;
      expect(valueOf(reassign(disk.id, transferId))).toStrictEqual(first);
      expect(repos.quotas.usage(B).volumes).toBe(1);
    });

    it('refuses a transfer that does not hold the disk with TransferNotHoldingDisk', () => {
      const disk = createDisk();
      expect(refusalName(reassign(disk.id, randomUUID()))).toBe('TransferNotHoldingDisk');

      const holder = randomUUID();
      valueOf(lock(disk.id, holder));
      expect(refusalName(reassign(disk.id, randomUUID()))).toBe('TransferNotHoldingDisk');
      expect(current(disk.id)).toMatchObject({ projectId: A, transferId: holder });

      repos.transferLocks.release({ diskId: disk.id, transferId: holder });
      expect(refusalName(reassign(disk.id, holder))).toBe('TransferNotHoldingDisk');
      expect(current(disk.id).projectId).toBe(A);
    });

    it('answers DiskNotFound for an unknown disk', () => {
      expect(refusalName(reassign(randomUUID(), randomUUID()))).toBe('DiskNotFound');
    });

    it("refuses when the recipient's disk count is full and leaves everything unchanged", () => {
      const disk = createDisk();
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      repos.quotas.setLimits(B, { volumes: 1 });
      createDisk({}, B);
      const before = current(disk.id);

      const outcome = reassign(disk.id, transferId);
      expect(refusalName(outcome)).toBe('QuotaExceeded');
      expect(outcome.ok ? '' : outcome.refusal.message).toMatch(/volumes 2 > limit 1/);
      expect(current(disk.id)).toStrictEqual(before);
      expect(repos.quotas.usage(A)).toEqual({ volumes: 1, gigabytes: 10 });
      expect(repos.quotas.usage(B)).toEqual({ volumes: 1, gigabytes: 10 });

      // The recipient frees room; the same transfer may then complete.
      repos.quotas.setLimits(B, { volumes: 2 });
      expect(valueOf(reassign(disk.id, transferId)).projectId).toBe(B);
    });

    it("refuses when the recipient's gigabytes would be exceeded", () => {
      const disk = createDisk({ sizeGb: 600 });
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      createDisk({ sizeGb: 500 }, B);
      const before = current(disk.id);
      const outcome = reassign(disk.id, transferId);
      expect(refusalName(outcome)).toBe('QuotaExceeded');
      expect(outcome.ok ? '' : outcome.refusal.message).toMatch(/gigabytes 1100 > limit 1000/);
      expect(current(disk.id)).toStrictEqual(before);
    });

    it('re-checks the constraints: a disk frozen while pending is refused and stays locked', () => {
      const disk = createDisk();
      const transferId = randomUUID();
      valueOf(lock(disk.id, transferId));
      valueOf(repos.disks.setFrozen(A, disk.id, true));
      expect(refusalName(reassign(disk.id, transferId))).toBe('DiskFrozen');
      expect(current(disk.id)).toMatchObject({ projectId: A, status: 'awaiting-transfer', transferId });
    });
  });

  describe('tenant operations while awaiting transfer', () => {
    const guardedCalls: Record<GuardedDiskOperation, (diskId: string) => Outcome<unknown>> = {
      attach: (id) => repos.disks.attach(A, id, randomUUID()),
      delete: (id) => repos.disks.delete(A, id),
      extend: (id) => repos.disks.extend(A, id, 20),
      snapshot: (id) => repos.snapshots.create(A, id, null),
      backup: (id) => repos.backups.create(A, id, null),
      'set-backup-policy': (id) => repos.disks.setBackupPolicy(A, id, randomUUID()),
      encrypt: (id) => repos.disks.setEncryption(A, id, true),
      'change-billing': (id) => repos.disks.changeBilling(A, id, 'prepaid'),
    };

    it.each([...OPERATIONS_REFUSED_DURING_TRANSFER])('refuses %s with DiskBusy and changes nothing', (operation) => {
      const disk = createDisk();
      valueOf(lock(disk.id, randomUUID()));
      const before = current(disk.id);
      now += 1000;
      expect(refusalName(guardedCalls[operation](disk.id))).toBe('DiskBusy');
      expect(current(disk.id)).toStrictEqual(before);
    });

    it('allows each of them again once the lock is released', () => {
      for (const operation of OPERATIONS_REFUSED_DURING_TRANSFER) {
        const disk = createDisk();
        const transferId = randomUUID();
        valueOf(lock(disk.id, transferId));
        repos.transferLocks.release({ diskId: disk.id, transferId });
        const refusal = refusalName(guardedCalls[operation](disk.id));
        expect({ operation, refusal }).toEqual({ operation, refusal: null });
      }
    });
  });

  describe('tenant operations', () => {
    it("refuses a create beyond the project's quota", () => {
      repos.quotas.setLimits(A, { volumes: 1, gigabytes: 50 });
      createDisk({ sizeGb: 40 });
      expect(refusalName(repos.disks.create(A, newDisk({ sizeGb: 5 })))).toBe('QuotaExceeded');
      repos.quotas.setLimits(A, { volumes: -1 });
      expect(refusalName(repos.disks.create(A, newDisk({ sizeGb: 11 })))).toBe('QuotaExceeded');
      expect(refusalName(repos.disks.create(A, newDisk({ sizeGb: 10 })))).toBeNull();
    });

    it('refuses an extend beyond the gigabytes quota, counting the disk once', () => {
      repos.quotas.setLimits(A, { gigabytes: 100 });
      const disk = createDisk({ sizeGb: 60 });
      expect(refusalName(repos.disks.extend(A, disk.id, 101))).toBe('QuotaExceeded');
      expect(valueOf(repos.disks.extend(A, disk.id, 100)).sizeGb).toBe(100);
      expect(refusalName(repos.disks.extend(A, disk.id, 100))).toBe('BadRequest');
    });

    it('deletes only detached disks without snapshots, frees quota, never reuses the id', () => {
      const disk = createDisk();
      valueOf(repos.disks.attach(A, disk.id, randomUUID()));
      expect(refusalName(repos.disks.delete(A, disk.id))).toBe('DiskStatusNotAvailable');
      valueOf(repos.disks.detach(A, disk.id));
      const snapshot = valueOf(repos.snapshots.create(A, disk.id, 's'));
      expect(refusalName(repos.disks.delete(A, disk.id))).toBe('DiskHasSnapshots');
      valueOf(repos.snapshots.delete(A, snapshot.id));
      valueOf(repos.disks.delete(A, disk.id));
      expect(repos.disks.find(disk.id)).toBeNull();
      expect(repos.quotas.usage(A).volumes).toBe(0);
      expect(refusalName(repos.disks.create(A, newDisk({ id: disk.id })))).toBe('BadRequest');
    });

    it('attaches an available disk, idempotently for the same server, and detaches it', () => {
      const disk = createDisk();
      const server = randomUUID();
      expect(valueOf(repos.disks.attach(A, disk.id, server))).toMatchObject({ status: 'in-use', attachedTo: server });
      expect(refusalName(repos.disks.attach(A, disk.id, server))).toBeNull();
      expect(refusalName(repos.disks.attach(A, disk.id, randomUUID()))).toBe('DiskStatusNotAvailable');
      expect(valueOf(repos.disks.detach(A, disk.id))).toMatchObject({ status: 'available', attachedTo: null });
      expect(refusalName(repos.disks.detach(A, disk.id))).toBe('DiskStatusNotAvailable');
    });

    it("hides another project's disk, snapshot and backup", () => {
      const disk = createDisk({}, B);
      expect(refusalName(repos.disks.attach(A, disk.id, randomUUID()))).toBe('DiskNotFound');
      expect(refusalName(repos.snapshots.create(A, disk.id, null))).toBe('DiskNotFound');
      const backup = valueOf(repos.backups.create(B, disk.id, null));
      expect(refusalName(repos.backups.delete(A, backup.id))).toBe('NotFound');
      expect(repos.backups.find(B, backup.id)).not.toBeNull();
    });

    it('counts snapshots and backups into the disk facts', () => {
      const disk = createDisk();
      valueOf(repos.snapshots.create(A, disk.id, null));
      valueOf(repos.backups.create(A, disk.id, null));
      valueOf(repos.backups.create(A, disk.id, null));
      expect(current(disk.id)).toMatchObject({ snapshotCount: 1, backupCount: 2 });
    });

    it('lists a project in creation order, page by page', () => {
      const ids = [0, 1, 2, 3].map(() => {
        now += 1;
        return createDisk().id;
      });
      createDisk({}, B);
      expect(repos.disks.list(A, { limit: 3, offset: 0 }).map((d) => d.id)).toEqual(ids.slice(0, 3));
      expect(repos.disks.list(A, { limit: 3, offset: 3 }).map((d) => d.id)).toEqual(ids.slice(3));
    });
  });
});
