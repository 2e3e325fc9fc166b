/**
 * The inventory schema as ordered, numbered migrations. A migration is never
 * edited once released: a change is a new entry with the next number. Literal
 * value lists in CHECK constraints are therefore history, not a copy of
 * libs/domain that must track it.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const INVENTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'disks, snapshots, backups, quotas',
    sql: `
      CREATE TABLE disks (
        id                  TEXT PRIMARY KEY,
        project_id          TEXT NOT NULL,
        name                TEXT,
        status              TEXT NOT NULL CHECK (status IN
                              ('creating', 'available', 'in-use', 'error', 'awaiting-transfer', 'deleting')),
        size_gb             INTEGER NOT NULL CHECK (size_gb >= 1),
        volume_type         TEXT NOT NULL,
        bootable            INTEGER NOT NULL CHECK (bootable IN (0, 1)),
        encrypted           INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
        backup_policy_id    TEXT,
        replication_pair_id TEXT,
        billing_mode        TEXT NOT NULL CHECK (billing_mode IN ('postpaid', 'prepaid')),
        frozen              INTEGER NOT NULL CHECK (frozen IN (0, 1)),
        storage_kind        TEXT NOT NULL CHECK (storage_kind IN ('shared', 'dss', 'dess')),
        -- the transfer holding the lock; set exactly while awaiting transfer
        transfer_id         TEXT,
        -- the transfer that last moved the disk to another project (idempotent reassign)
        last_transfer_id    TEXT,
        attached_to         TEXT,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        -- deleted disks stay as tombstones so their ids are never reused
        deleted_at          INTEGER,
        CHECK ((status = 'awaiting-transfer') = (transfer_id IS NOT NULL)),
        CHECK ((status = 'in-use') = (attached_to IS NOT NULL)),
        CHECK ((status = 'deleting') = (deleted_at IS NOT NULL))
      ) STRICT;
      CREATE INDEX disks_by_project ON disks (project_id, created_at, id) WHERE deleted_at IS NULL;

      CREATE TABLE snapshots (
        id         TEXT PRIMARY KEY,
        disk_id    TEXT NOT NULL REFERENCES disks (id),
        project_id TEXT NOT NULL,
        name       TEXT,
        size_gb    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX snapshots_by_disk ON snapshots (disk_id);

      CREATE TABLE backups (
        id         TEXT PRIMARY KEY,
        disk_id    TEXT NOT NULL REFERENCES disks (id),
        project_id TEXT NOT NULL,
        name       TEXT,
        size_gb    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX backups_by_disk ON backups (disk_id);

      -- a project without a row has the configured default limits; -1 = unlimited
      CREATE TABLE quotas (
        project_id TEXT PRIMARY KEY,
        volumes    INTEGER NOT NULL CHECK (volumes >= -1),
        gigabytes  INTEGER NOT NULL CHECK (gigabytes >= -1),
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
];

/**
 * Applies the migrations not yet recorded, in order, each in its own
 * IMMEDIATE transaction that re-reads schema_migrations first: two processes
 * starting together on one file apply each migration once. Returns the
 * versions applied by this call (empty when the schema was current).
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = INVENTORY_MIGRATIONS,
  now: () => number = Date.now,
): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Migration "${m.name}" has version ${m.version}; expected ${i + 1} (1, 2, 3... in order)`);
    }
  });
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);

  const newest = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  if (newest.v !== null && newest.v > migrations.length) {
    throw new Error(
      `The inventory database is at schema version ${newest.v}, newer than this build knows ` +
        `(${migrations.length}); refusing to run an older build against it`,
    );
  }

  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations) {
    const apply = db.transaction((): boolean => {
      if (isApplied.get(m.version) !== undefined) return false;
      db.exec(m.sql);
      record.run(m.version, m.name, now());
      return true;
    });
    if (apply.immediate()) applied.push(m.version);
  }
  return applied;
}
