/**
 * The inventory's store on a SQLite file and on PostgreSQL: its schema and
 * how it takes over a file of the SQLite-only release, every repository
 * operation the inventory's API is built on, and the races that matter once
 * several replicas share one PostgreSQL database: one transfer lock per
 * disk, and no quota overrun.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPERATIONS_REFUSED_DURING_TRANSFER, TRANSFER_RULES, type DiskFacts, type GuardedDiskOperation } from '../../libs/domain/src/disk';
import { transferableDisk } from '../../libs/domain/src/disk.fixtures';
import type { ErrorName } from '../../libs/domain/src/errors';
import type { DatabaseTarget } from '../../libs/database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../libs/database/src/store-database';
import type { NewDisk } from '../../apps/inventory/src/store/disk.repository';
import { INVENTORY_MIGRATIONS } from '../../apps/inventory/src/store/inventory.migrations';
import { createInventoryRepositories, type InventoryRepositories } from '../../apps/inventory/src/store/inventory.repositories';
import { InventoryStore } from '../../apps/inventory/src/store/inventory.store';
import type { DiskRecord, Outcome } from '../../apps/inventory/src/store/store.types';
import { DIALECTS, freshStoreTarget, type DisposableTarget } from '../support/store-targets';

const A = 'project-a';
const B = 'project-b';
const defaultQuota = { volumes: 10, gigabytes: 1000 };

function refusalName<T>(outcome: Outcome<T>): string | null {
  return outcome.ok ? null : outcome.refusal.name;
}

function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.refusal.name}: ${outcome.refusal.message ?? ''}`);
  return outcome.value;
}

/** Schema version 1 of the SQLite-only release, as its own migration list created it. */
const PREVIOUS_RELEASE_SCHEMA = `
  CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT;
  CREATE TABLE disks (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT,
    status TEXT NOT NULL CHECK (status IN ('creating', 'available', 'in-use', 'error', 'awaiting-transfer', 'deleting')),
    size_gb INTEGER NOT NULL CHECK (size_gb >= 1), volume_type TEXT NOT NULL,
    bootable INTEGER NOT NULL CHECK (bootable IN (0, 1)), encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    backup_policy_id TEXT, replication_pair_id TEXT,
    billing_mode TEXT NOT NULL CHECK (billing_mode IN ('postpaid', 'prepaid')),
    frozen INTEGER NOT NULL CHECK (frozen IN (0, 1)),
    storage_kind TEXT NOT NULL CHECK (storage_kind IN ('shared', 'dss', 'dess')),
    transfer_id TEXT, last_transfer_id TEXT, attached_to TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    CHECK ((status = 'awaiting-transfer') = (transfer_id IS NOT NULL)),
    CHECK ((status = 'in-use') = (attached_to IS NOT NULL)),
    CHECK ((status = 'deleting') = (deleted_at IS NOT NULL))
  ) STRICT;
  CREATE INDEX disks_by_project ON disks (project_id, created_at, id) WHERE deleted_at IS NULL;
  CREATE TABLE snapshots (id TEXT PRIMARY KEY, disk_id TEXT NOT NULL REFERENCES disks (id), project_id TEXT NOT NULL,
    name TEXT, size_gb INTEGER NOT NULL, created_at INTEGER NOT NULL) STRICT;
  CREATE INDEX snapshots_by_disk ON snapshots (disk_id);
  CREATE TABLE backups (id TEXT PRIMARY KEY, disk_id TEXT NOT NULL REFERENCES disks (id), project_id TEXT NOT NULL,
    name TEXT, size_gb INTEGER NOT NULL, created_at INTEGER NOT NULL) STRICT;
  CREATE INDEX backups_by_disk ON backups (disk_id);
  CREATE TABLE quotas (project_id TEXT PRIMARY KEY, volumes INTEGER NOT NULL CHECK (volumes >= -1),
    gigabytes INTEGER NOT NULL CHECK (gigabytes >= -1), updated_at INTEGER NOT NULL) STRICT;
`;

describe.each(DIALECTS)('inventory store on %s', (dialect) => {
  let disposable: DisposableTarget;
  let target: DatabaseTarget;
  let store: InventoryStore;
  let repos: InventoryRepositories;
  let now: number;
  const clock = () => now;
  /** Every store a test opens besides `store`, closed after it. */
  const others: InventoryStore[] = [];

  /** What another replica sees of the same database: its own connections. */
  async function openAnother(): Promise<InventoryRepositories> {
    const another = await InventoryStore.open(target, { poolMax: 1 });
    others.push(another);
    return createInventoryRepositories(another, { defaultQuota, clock });
  }

  beforeEach(async () => {
    disposable = await freshStoreTarget(dialect, 'inventory');
    target = disposable.target;
    store = await InventoryStore.open(target, { poolMax: 2 });
    now = Date.UTC(2026, 0, 2, 3, 4, 5);
    repos = createInventoryRepositories(store, { defaultQuota, clock });
  });

  afterEach(async () => {
    await Promise.all(others.splice(0).map((s) => s.close()));
    await store.close();
    await disposable.dispose();
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

  const createDisk = async (overrides: Partial<NewDisk> = {}, projectId = A): Promise<DiskRecord> =>
    valueOf(await repos.disks.create(projectId, newDisk(overrides)));

  const current = async (diskId: string): Promise<DiskRecord> => {
    const disk = await repos.disks.find(diskId);
    if (disk === null) throw new Error(`disk ${diskId} not found`);
    return disk;
  };

  const lock = (diskId: string, transferId: string, projectId = A) => repos.transferLocks.lock({ diskId, projectId, transferId });

  describe('schema', () => {
    const tableNames = async (): Promise<string[]> => {
      const query =
        dialect === 'sqlite'
          ? sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
          : sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`;
      const { rows } = await store.run((db) => query.execute(db));
      return rows.map((r) => r.name).sort();
    };
    const appliedSteps = async (): Promise<string[]> => {
      const { rows } = await store.run((db) => sql<{ name: string }>`SELECT name FROM inventory_migrations ORDER BY name`.execute(db));
      return rows.map((r) => r.name);
    };

    it('creates every table and records every step', async () => {
      expect(await tableNames()).toEqual(expect.arrayContaining(['backups', 'disks', 'quota_guards', 'quotas', 'snapshots']));
      expect(await appliedSteps()).toEqual(INVENTORY_MIGRATIONS.map((m) => m.name));
      expect(await store.isHealthy()).toBe(true);
    });

    it.runIf(dialect === 'sqlite')('opens a SQLite file with WAL, foreign keys, a busy timeout and synchronous FULL', async () => {
      const pragma = async (name: string) => (await store.run((db) => sql<Record<string, unknown>>`${sql.raw(`PRAGMA ${name}`)}`.execute(db))).rows[0];
      expect(await pragma('journal_mode')).toEqual({ journal_mode: 'wal' });
      expect(await pragma('foreign_keys')).toEqual({ foreign_keys: 1 });
      expect((await pragma('busy_timeout'))?.timeout).toBeGreaterThan(0);
      expect(await pragma('synchronous')).toEqual({ synchronous: 2 });
    });

    it('keeps epoch milliseconds beyond 32 bits and flags as written', async () => {
      now = 8_000_000_000_000;
      const disk = await createDisk({ encrypted: true });
      expect(await current(disk.id)).toMatchObject({ createdAtMs: now, updatedAtMs: now, encrypted: true, bootable: false });
    });

    it('opening again applies nothing and keeps the data', async () => {
      await repos.quotas.setLimits('p1', { volumes: 1, gigabytes: 2 });
      await store.close();
      store = await InventoryStore.open(target);
      repos = createInventoryRepositories(store, { defaultQuota, clock });
      expect(await appliedSteps()).toEqual(INVENTORY_MIGRATIONS.map((m) => m.name));
      expect(await repos.quotas.limits('p1')).toEqual({ volumes: 1, gigabytes: 2 });
    });

    it('applies only the steps a database has not seen, in order, once', async () => {
      const seen: string[] = [];
      const step = (name: string, statement: string): StoreMigration => ({
        name,
        async up(db) {
          seen.push(name);
          await sql.raw(statement).execute(db);
        },
      });
      const next = [
        ...INVENTORY_MIGRATIONS,
        step('9001_test_column', 'ALTER TABLE quotas ADD COLUMN note TEXT'),
        step('9002_test_index', 'CREATE INDEX quotas_by_note ON quotas (note)'),
      ];
      for (let i = 0; i < 2; i++) await (await StoreDatabase.open({ store: 'inventory', target, migrations: next })).close();
      expect(seen).toEqual(['9001_test_column', '9002_test_index']);
      expect(await appliedSteps()).toEqual(next.map((m) => m.name));
    });

    it('refuses a list whose names are not in the order they run', async () => {
      const [first, second] = INVENTORY_MIGRATIONS;
      await expect(StoreDatabase.open({ store: 'inventory', target, migrations: [second, first] })).rejects.toThrow(/sorts before/);
    });

    it('lets an older build start on a schema a newer one migrated (a rolling upgrade: migrations only add)', async () => {
      const future: StoreMigration = { name: '9999_future', up: async () => undefined };
      await (await StoreDatabase.open({ store: 'inventory', target, migrations: [...INVENTORY_MIGRATIONS, future] })).close();
      const older = await InventoryStore.open(target);
      await older.close();
      expect(await appliedSteps()).toEqual([...INVENTORY_MIGRATIONS.map((m) => m.name), '9999_future']);
    });

    it('does not record a step that fails', async () => {
      const broken: StoreMigration = {
        name: '9001_half_broken',
        async up(db) {
          await sql`CREATE TABLE half (x INTEGER)`.execute(db);
          await sql`INSERT INTO no_such_table VALUES (1)`.execute(db);
        },
      };
      await expect(StoreDatabase.open({ store: 'inventory', target, migrations: [...INVENTORY_MIGRATIONS, broken] })).rejects.toThrow();
      expect(await appliedSteps()).toEqual(INVENTORY_MIGRATIONS.map((m) => m.name));
      if (dialect === 'postgres') {
        // PostgreSQL runs each step in a transaction: nothing of the failed one stays.
        expect(await tableNames()).not.toContain('half');
      }
    });
  });

  describe.runIf(dialect === 'sqlite')('a SQLite file of the previous release', () => {
    /** A file as the SQLite-only release left it, at its schema version `version`, with one disk. */
    function writeLegacyFile(version: number): { file: string; diskId: string } {
      const file = path.join(path.dirname((target as Extract<DatabaseTarget, { dialect: 'sqlite' }>).file), 'previous-release.sqlite');
      const db = new Database(file);
      try {
        db.pragma('journal_mode = WAL');
        db.exec(PREVIOUS_RELEASE_SCHEMA);
        for (let v = 1; v <= version; v++) db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(v, `release step ${v}`, 1);
        const diskId = randomUUID();
        db.prepare(
          `INSERT INTO disks VALUES (?, ?, 'old', 'available', 30, 'SSD', 0, 0, NULL, NULL, 'postpaid', 0, 'shared',
                                     NULL, NULL, NULL, 1000, 2000, NULL)`,
        ).run(diskId, A);
        db.prepare('INSERT INTO quotas VALUES (?, 5, 500, 1)').run(A);
        return { file, diskId };
      } finally {
        db.close();
      }
    }

    it('is taken over as it is: its data stays, its schema version is adopted, the new steps run', async () => {
      const { file, diskId } = writeLegacyFile(1);
      const adopted = await InventoryStore.open({ dialect: 'sqlite', file });
      others.push(adopted);
      const old = createInventoryRepositories(adopted, { defaultQuota, clock });
      expect(await old.disks.find(diskId)).toMatchObject({ projectId: A, name: 'old', sizeGb: 30, createdAtMs: 1000, updatedAtMs: 2000 });
      expect(await old.quotas.limits(A)).toEqual({ volumes: 5, gigabytes: 500 });
      const { rows } = await adopted.run((db) => sql<{ name: string }>`SELECT name FROM inventory_migrations ORDER BY name`.execute(db));
      expect(rows.map((r) => r.name)).toEqual(INVENTORY_MIGRATIONS.map((m) => m.name));
      // The previous release's record stays, so that release can still open the file after a rollback.
      const legacy = await adopted.run((db) => sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(db));
      expect(legacy.rows).toEqual([{ version: 1 }]);

      const transferId = randomUUID();
      valueOf(await old.transferLocks.lock({ diskId, projectId: A, transferId }));
      expect(valueOf(await old.transferLocks.reassign({ diskId, transferId, toProjectId: B })).projectId).toBe(B);
      expect(await old.quotas.usage(B)).toEqual({ volumes: 1, gigabytes: 30 });
    });

    it('is refused when an unknown newer release of that line numbered it beyond version 1', async () => {
      const { file } = writeLegacyFile(2);
      await expect(InventoryStore.open({ dialect: 'sqlite', file })).rejects.toThrow(/schema version 2, newer than this build/);
    });
  });

  describe('lock for transfer', () => {
    it('moves an available disk to awaiting-transfer, tagged with the transfer, and answers DiskFacts exactly', async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      now += 1000;
      const facts = valueOf(await lock(disk.id, transferId));
      const expected: DiskFacts = transferableDisk({ id: disk.id, projectId: A, status: 'awaiting-transfer', transferId });
      expect(facts).toStrictEqual(expected);
      expect((await current(disk.id)).updatedAtMs).toBe(now);
    });

    it('is idempotent for the transfer that holds the lock', async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      const first = valueOf(await lock(disk.id, transferId));
      const before = await current(disk.id);
      now += 5000;
      expect(valueOf(await lock(disk.id, transferId))).toStrictEqual(first);
      expect(await current(disk.id)).toStrictEqual(before);
    });

    it('refuses a second transfer with DiskAlreadyInTransfer and keeps the first holder', async () => {
      const disk = await createDisk();
      const first = randomUUID();
      valueOf(await lock(disk.id, first));
      expect(refusalName(await lock(disk.id, randomUUID()))).toBe('DiskAlreadyInTransfer');
      expect((await current(disk.id)).transferId).toBe(first);
    });

    it('reports a missing, deleted or other project disk as DiskNotFound', async () => {
      expect(refusalName(await lock(randomUUID(), randomUUID()))).toBe('DiskNotFound');
      const theirs = await createDisk({}, B);
      expect(refusalName(await lock(theirs.id, randomUUID(), A))).toBe('DiskNotFound');
      const gone = await createDisk();
      valueOf(await repos.disks.delete(A, gone.id));
      expect(refusalName(await lock(gone.id, randomUUID()))).toBe('DiskNotFound');
    });

    /** Each case builds a disk breaking one rule; together they must cover the whole table. */
    const constraintCases: { rule: string; error: ErrorName; make: () => Promise<DiskRecord> }[] = [
      { rule: 'status creating', error: 'DiskStatusNotAvailable', make: () => createDisk({ status: 'creating' }) },
      { rule: 'status error', error: 'DiskStatusNotAvailable', make: () => createDisk({ status: 'error' }) },
      {
        rule: 'status in-use',
        error: 'DiskStatusNotAvailable',
        make: async () => {
          const d = await createDisk();
          return valueOf(await repos.disks.attach(A, d.id, randomUUID()));
        },
      },
      { rule: 'data disk only', error: 'DiskIsSystemDisk', make: () => createDisk({ bootable: true }) },
      { rule: 'encryption', error: 'DiskEncrypted', make: () => createDisk({ encrypted: true }) },
      {
        rule: 'snapshots',
        error: 'DiskHasSnapshots',
        make: async () => {
          const d = await createDisk();
          valueOf(await repos.snapshots.create(A, d.id, 'snap'));
          return current(d.id);
        },
      },
      {
        rule: 'backups',
        error: 'DiskHasBackups',
        make: async () => {
          const d = await createDisk();
          valueOf(await repos.backups.create(A, d.id, 'bak'));
          return current(d.id);
        },
      },
      { rule: 'backup policy', error: 'DiskHasBackupPolicy', make: () => createDisk({ backupPolicyId: randomUUID() }) },
      { rule: 'replication', error: 'DiskInReplicationPair', make: () => createDisk({ replicationPairId: randomUUID() }) },
      { rule: 'billing', error: 'DiskPrepaid', make: () => createDisk({ billingMode: 'prepaid' }) },
      { rule: 'frozen', error: 'DiskFrozen', make: () => createDisk({ frozen: true }) },
      { rule: 'dedicated storage', error: 'DiskOnDedicatedStorage', make: () => createDisk({ storageKind: 'dss' }) },
      { rule: 'dedicated storage', error: 'DiskOnDedicatedStorage', make: () => createDisk({ storageKind: 'dess' }) },
    ];

    it('covers every rule of the constraint table', () => {
      const covered = new Set(constraintCases.map((c) => c.error));
      expect(TRANSFER_RULES.filter((r) => !covered.has(r.error)).map((r) => r.rule)).toEqual([]);
    });

    it.each(constraintCases)('refuses rule "$rule" with $error and changes nothing', async ({ error, make }) => {
      const disk = await make();
      expect(refusalName(await lock(disk.id, randomUUID()))).toBe(error);
      expect(await current(disk.id)).toStrictEqual(disk);
    });

    it('is a compare-and-set across connections: of two transfers, exactly one wins', async () => {
      const disk = await createDisk();
      const otherRepos = await openAnother();
      const [t1, t2] = [randomUUID(), randomUUID()];
      const outcomes = [await lock(disk.id, t1), await otherRepos.transferLocks.lock({ diskId: disk.id, projectId: A, transferId: t2 })];
      expect(outcomes.map(refusalName)).toEqual([null, 'DiskAlreadyInTransfer']);
      expect((await otherRepos.disks.find(disk.id))?.transferId).toBe(t1);
    });

    it('of 20 transfers locking one disk at once, each through its own store, exactly one wins', async () => {
      const disk = await createDisk();
      const contenders = await Promise.all(Array.from({ length: 20 }, () => openAnother()));
      const transferIds = contenders.map(() => randomUUID());
      const outcomes = await Promise.all(
        contenders.map((r, i) => r.transferLocks.lock({ diskId: disk.id, projectId: A, transferId: transferIds[i] })),
      );
      const winners = transferIds.filter((_, i) => outcomes[i].ok);
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map(refusalName)).toEqual(Array(19).fill('DiskAlreadyInTransfer'));
      expect((await current(disk.id)).transferId).toBe(winners[0]);
    });

    it('never locks a disk that a snapshot taken at the same moment lands on', async () => {
      const other = await openAnother();
      for (let round = 0; round < 5; round++) {
        const disk = await createDisk();
        const [locked, snapshot] = await Promise.all([lock(disk.id, randomUUID()), other.snapshots.create(A, disk.id, 'racing')]);
        // One of the two goes first; the other sees it and refuses.
        expect([locked.ok, snapshot.ok].filter(Boolean)).toHaveLength(1);
        const after = await current(disk.id);
        expect(after.status === 'awaiting-transfer' && after.snapshotCount > 0).toBe(false);
      }
    });
  });

  describe('release the lock', () => {
    it('returns the disk to available with the same owner, once', async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      const released = await repos.transferLocks.release({ diskId: disk.id, transferId });
      expect(released.released).toBe(true);
      expect(released.disk).toMatchObject({ status: 'available', projectId: A, transferId: null });

      const again = await repos.transferLocks.release({ diskId: disk.id, transferId });
      expect(again).toStrictEqual({ released: false, disk: released.disk });
    });

    it('never touches a disk held by another transfer', async () => {
      const disk = await createDisk();
      const holder = randomUUID();
      valueOf(await lock(disk.id, holder));
      const before = await current(disk.id);
      const result = await repos.transferLocks.release({ diskId: disk.id, transferId: randomUUID() });
      expect(result.released).toBe(false);
      expect(result.disk?.transferId).toBe(holder);
      expect(await current(disk.id)).toStrictEqual(before);
    });

    it('answers released=false for a disk never locked, and disk=null for an unknown one', async () => {
      const disk = await createDisk();
      expect(await repos.transferLocks.release({ diskId: disk.id, transferId: randomUUID() })).toMatchObject({
        released: false,
        disk: { id: disk.id, status: 'available' },
      });
      expect(await repos.transferLocks.release({ diskId: randomUUID(), transferId: randomUUID() })).toStrictEqual({
        released: false,
        disk: null,
      });
    });
  });

  describe('list the disks awaiting transfer', () => {
    it("lists every project's locked disks in id order, page by page after a key, and nothing else", async () => {
      const lockedIds: string[] = [];
      for (const project of [A, A, B]) {
        const disk = await createDisk({}, project);
        valueOf(await lock(disk.id, randomUUID(), project));
        lockedIds.push(disk.id);
      }
      await createDisk();
      const released = await createDisk();
      const holder = randomUUID();
      valueOf(await lock(released.id, holder));
      await repos.transferLocks.release({ diskId: released.id, transferId: holder });

      const sorted = [...lockedIds].sort();
      const first = await repos.disks.listAwaitingTransfer({ after: null, limit: 2 });
      expect(first.map((d) => d.id)).toEqual(sorted.slice(0, 2));
      const rest = await repos.disks.listAwaitingTransfer({ after: first[1].id, limit: 2 });
      expect(rest.map((d) => d.id)).toEqual(sorted.slice(2));
      expect(rest[0]).toMatchObject({ status: 'awaiting-transfer', transferId: expect.any(String) });
      expect(await repos.disks.listAwaitingTransfer({ after: sorted[2], limit: 2 })).toEqual([]);
    });

    it('does not shift later pages when a listed lock is released between pages', async () => {
      const ids: { id: string; transferId: string }[] = [];
      for (let i = 0; i < 4; i++) {
        const disk = await createDisk();
        const transferId = randomUUID();
        valueOf(await lock(disk.id, transferId));
        ids.push({ id: disk.id, transferId });
      }
      ids.sort((x, y) => x.id.localeCompare(y.id));
      const first = await repos.disks.listAwaitingTransfer({ after: null, limit: 2 });
      await repos.transferLocks.release({ diskId: ids[0].id, transferId: ids[0].transferId });
      const second = await repos.disks.listAwaitingTransfer({ after: first[1].id, limit: 2 });
      expect([...first, ...second].map((d) => d.id)).toEqual(ids.map((d) => d.id));
    });
  });

  describe('reassign', () => {
    const reassign = (diskId: string, transferId: string, toProjectId = B) => repos.transferLocks.reassign({ diskId, transferId, toProjectId });

    it('moves the disk and its quota usage to the recipient, available, lock cleared', async () => {
      const disk = await createDisk({ sizeGb: 30 });
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      const facts = valueOf(await reassign(disk.id, transferId));
      expect(facts).toMatchObject({ id: disk.id, projectId: B, status: 'available', transferId: null });
      expect((await current(disk.id)).lastTransferId).toBe(transferId);
      expect(await repos.quotas.usage(A)).toEqual({ volumes: 0, gigabytes: 0 });
      expect(await repos.quotas.usage(B)).toEqual({ volumes: 1, gigabytes: 30 });
      expect(await repos.disks.findOwned(A, disk.id)).toBeNull();
    });

    it('is idempotent: a retry by the same transfer answers the same disk', async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      const first = valueOf(await reassign(disk.id, transferId));
      now += 1000;
      expect(valueOf(await reassign(disk.id, transferId))).toStrictEqual(first);
      expect((await repos.quotas.usage(B)).volumes).toBe(1);
    });

    it('refuses a transfer that does not hold the disk with TransferNotHoldingDisk', async () => {
      const disk = await createDisk();
      expect(refusalName(await reassign(disk.id, randomUUID()))).toBe('TransferNotHoldingDisk');

      const holder = randomUUID();
      valueOf(await lock(disk.id, holder));
      expect(refusalName(await reassign(disk.id, randomUUID()))).toBe('TransferNotHoldingDisk');
      expect(await current(disk.id)).toMatchObject({ projectId: A, transferId: holder });

      await repos.transferLocks.release({ diskId: disk.id, transferId: holder });
      expect(refusalName(await reassign(disk.id, holder))).toBe('TransferNotHoldingDisk');
      expect((await current(disk.id)).projectId).toBe(A);
    });

    it('answers DiskNotFound for an unknown disk', async () => {
      expect(refusalName(await reassign(randomUUID(), randomUUID()))).toBe('DiskNotFound');
    });

    it("refuses when the recipient's disk count is full and leaves everything unchanged", async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      await repos.quotas.setLimits(B, { volumes: 1 });
      await createDisk({}, B);
      const before = await current(disk.id);

      const outcome = await reassign(disk.id, transferId);
      expect(refusalName(outcome)).toBe('QuotaExceeded');
      expect(outcome.ok ? '' : outcome.refusal.message).toMatch(/volumes 2 > limit 1/);
      expect(await current(disk.id)).toStrictEqual(before);
      expect(await repos.quotas.usage(A)).toEqual({ volumes: 1, gigabytes: 10 });
      expect(await repos.quotas.usage(B)).toEqual({ volumes: 1, gigabytes: 10 });

      // The recipient frees room; the same transfer may then complete.
      await repos.quotas.setLimits(B, { volumes: 2 });
      expect(valueOf(await reassign(disk.id, transferId)).projectId).toBe(B);
    });

    it("refuses when the recipient's gigabytes would be exceeded", async () => {
      const disk = await createDisk({ sizeGb: 600 });
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      await createDisk({ sizeGb: 500 }, B);
      const before = await current(disk.id);
      const outcome = await reassign(disk.id, transferId);
      expect(refusalName(outcome)).toBe('QuotaExceeded');
      expect(outcome.ok ? '' : outcome.refusal.message).toMatch(/gigabytes 1100 > limit 1000/);
      expect(await current(disk.id)).toStrictEqual(before);
    });

    it('re-checks the constraints: a disk frozen while pending is refused and stays locked', async () => {
      const disk = await createDisk();
      const transferId = randomUUID();
      valueOf(await lock(disk.id, transferId));
      valueOf(await repos.disks.setFrozen(A, disk.id, true));
      expect(refusalName(await reassign(disk.id, transferId))).toBe('DiskFrozen');
      expect(await current(disk.id)).toMatchObject({ projectId: A, status: 'awaiting-transfer', transferId });
    });

    it("never fills the recipient beyond its quota when a create there races the reassign", async () => {
      await repos.quotas.setLimits(B, { volumes: 1 });
      const other = await openAnother();
      for (let round = 0; round < 5; round++) {
        const disk = await createDisk();
        const transferId = randomUUID();
        valueOf(await lock(disk.id, transferId));
        const [moved, created] = await Promise.all([reassign(disk.id, transferId), other.disks.create(B, newDisk())]);
        expect([moved.ok, created.ok].filter(Boolean)).toHaveLength(1);
        expect((await repos.quotas.usage(B)).volumes).toBe(1);
        // Empty the recipient again for the next round.
        const [held] = await repos.disks.list(B, { limit: 1, offset: 0 });
        valueOf(await repos.disks.delete(B, held.id));
      }
    });
  });

  describe('tenant operations while awaiting transfer', () => {
    const guardedCalls: Record<GuardedDiskOperation, (diskId: string) => Promise<Outcome<unknown>>> = {
      attach: (id) => repos.disks.attach(A, id, randomUUID()),
      delete: (id) => repos.disks.delete(A, id),
      extend: (id) => repos.disks.extend(A, id, 20),
      snapshot: (id) => repos.snapshots.create(A, id, null),
      backup: (id) => repos.backups.create(A, id, null),
      'set-backup-policy': (id) => repos.disks.setBackupPolicy(A, id, randomUUID()),
      encrypt: (id) => repos.disks.setEncryption(A, id, true),
      'change-billing': (id) => repos.disks.changeBilling(A, id, 'prepaid'),
    };

    it.each([...OPERATIONS_REFUSED_DURING_TRANSFER])('refuses %s with DiskBusy and changes nothing', async (operation) => {
      const disk = await createDisk();
      valueOf(await lock(disk.id, randomUUID()));
      const before = await current(disk.id);
      now += 1000;
      expect(refusalName(await guardedCalls[operation](disk.id))).toBe('DiskBusy');
      expect(await current(disk.id)).toStrictEqual(before);
    });

    it('allows each of them again once the lock is released', async () => {
      for (const operation of OPERATIONS_REFUSED_DURING_TRANSFER) {
        const disk = await createDisk();
        const transferId = randomUUID();
        valueOf(await lock(disk.id, transferId));
        await repos.transferLocks.release({ diskId: disk.id, transferId });
        const refusal = refusalName(await guardedCalls[operation](disk.id));
        expect({ operation, refusal }).toEqual({ operation, refusal: null });
      }
    });
  });

  describe('tenant operations', () => {
    it("refuses a create beyond the project's quota", async () => {
      await repos.quotas.setLimits(A, { volumes: 1, gigabytes: 50 });
      await createDisk({ sizeGb: 40 });
      expect(refusalName(await repos.disks.create(A, newDisk({ sizeGb: 5 })))).toBe('QuotaExceeded');
      await repos.quotas.setLimits(A, { volumes: -1 });
      expect(refusalName(await repos.disks.create(A, newDisk({ sizeGb: 11 })))).toBe('QuotaExceeded');
      expect(refusalName(await repos.disks.create(A, newDisk({ sizeGb: 10 })))).toBeNull();
    });

    it('never exceeds a quota when creates through many stores race for its last places', async () => {
      await repos.quotas.setLimits(A, { volumes: 3 });
      const creators = await Promise.all(Array.from({ length: 10 }, () => openAnother()));
      const outcomes = await Promise.all(creators.map((r) => r.disks.create(A, newDisk())));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(3);
      expect(outcomes.filter((o) => !o.ok).map(refusalName)).toEqual(Array(7).fill('QuotaExceeded'));
      expect(await repos.quotas.usage(A)).toEqual({ volumes: 3, gigabytes: 30 });
    });

    it('never exceeds a gigabytes quota when extends of two disks race', async () => {
      await repos.quotas.setLimits(A, { gigabytes: 100 });
      const other = await openAnother();
      for (let round = 0; round < 5; round++) {
        const [d1, d2] = [await createDisk({ sizeGb: 10 }), await createDisk({ sizeGb: 10 })];
        const outcomes = await Promise.all([repos.disks.extend(A, d1.id, 60), other.disks.extend(A, d2.id, 60)]);
        expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
        expect((await repos.quotas.usage(A)).gigabytes).toBe(70);
        for (const d of [d1, d2]) valueOf(await repos.disks.delete(A, d.id));
      }
    });

    it('keeps both of two limits set at once', async () => {
      const other = await openAnother();
      await Promise.all([repos.quotas.setLimits(A, { volumes: 7 }), other.quotas.setLimits(A, { gigabytes: 70 })]);
      expect(await repos.quotas.limits(A)).toEqual({ volumes: 7, gigabytes: 70 });
    });

    it('refuses an extend beyond the gigabytes quota, counting the disk once', async () => {
      await repos.quotas.setLimits(A, { gigabytes: 100 });
      const disk = await createDisk({ sizeGb: 60 });
      expect(refusalName(await repos.disks.extend(A, disk.id, 101))).toBe('QuotaExceeded');
      expect(valueOf(await repos.disks.extend(A, disk.id, 100)).sizeGb).toBe(100);
      expect(refusalName(await repos.disks.extend(A, disk.id, 100))).toBe('BadRequest');
    });

    it('deletes only detached disks without snapshots, frees quota, never reuses the id', async () => {
      const disk = await createDisk();
      valueOf(await repos.disks.attach(A, disk.id, randomUUID()));
      expect(refusalName(await repos.disks.delete(A, disk.id))).toBe('DiskStatusNotAvailable');
      valueOf(await repos.disks.detach(A, disk.id));
      const snapshot = valueOf(await repos.snapshots.create(A, disk.id, 's'));
      expect(refusalName(await repos.disks.delete(A, disk.id))).toBe('DiskHasSnapshots');
      valueOf(await repos.snapshots.delete(A, snapshot.id));
      valueOf(await repos.disks.delete(A, disk.id));
      expect(await repos.disks.find(disk.id)).toBeNull();
      expect((await repos.quotas.usage(A)).volumes).toBe(0);
      expect(refusalName(await repos.disks.create(A, newDisk({ id: disk.id })))).toBe('BadRequest');
    });

    it('gives an id to one create only when two projects ask for it at once', async () => {
      const other = await openAnother();
      const id = randomUUID();
      const outcomes = await Promise.all([repos.disks.create(A, newDisk({ id })), other.disks.create(B, newDisk({ id }))]);
      expect(outcomes.map(refusalName).filter((name) => name !== null)).toEqual(['BadRequest']);
    });

    it('attaches an available disk, idempotently for the same server, and detaches it', async () => {
      const disk = await createDisk();
      const server = randomUUID();
      expect(valueOf(await repos.disks.attach(A, disk.id, server))).toMatchObject({ status: 'in-use', attachedTo: server });
      expect(refusalName(await repos.disks.attach(A, disk.id, server))).toBeNull();
      expect(refusalName(await repos.disks.attach(A, disk.id, randomUUID()))).toBe('DiskStatusNotAvailable');
      expect(valueOf(await repos.disks.detach(A, disk.id))).toMatchObject({ status: 'available', attachedTo: null });
      expect(refusalName(await repos.disks.detach(A, disk.id))).toBe('DiskStatusNotAvailable');
    });

    it("hides another project's disk, snapshot and backup", async () => {
      const disk = await createDisk({}, B);
      expect(refusalName(await repos.disks.attach(A, disk.id, randomUUID()))).toBe('DiskNotFound');
      expect(refusalName(await repos.snapshots.create(A, disk.id, null))).toBe('DiskNotFound');
      const backup = valueOf(await repos.backups.create(B, disk.id, null));
      expect(refusalName(await repos.backups.delete(A, backup.id))).toBe('NotFound');
      expect(await repos.backups.find(B, backup.id)).not.toBeNull();
    });

    it('counts snapshots and backups into the disk facts', async () => {
      const disk = await createDisk();
      valueOf(await repos.snapshots.create(A, disk.id, null));
      valueOf(await repos.backups.create(A, disk.id, null));
      valueOf(await repos.backups.create(A, disk.id, null));
      expect(await current(disk.id)).toMatchObject({ snapshotCount: 1, backupCount: 2 });
    });

    it('lists a project in creation order, page by page', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        now += 1;
        ids.push((await createDisk()).id);
      }
      await createDisk({}, B);
      expect((await repos.disks.list(A, { limit: 3, offset: 0 })).map((d) => d.id)).toEqual(ids.slice(0, 3));
      expect((await repos.disks.list(A, { limit: 3, offset: 3 })).map((d) => d.id)).toEqual(ids.slice(3));
    });
  });
});
