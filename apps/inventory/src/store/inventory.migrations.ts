/**
 * The inventory schema as ordered steps, run by the store's migrator on
 * SQLite and PostgreSQL alike. A step is never edited once released: a
 * change is a new step whose name sorts after the last. Literal value lists
 * in CHECK constraints are therefore history, not a copy of libs/domain that
 * must track it.
 *
 * The SQLite-only releases kept their own list, numbered 1, 2, 3... in a
 * `schema_migrations` table, and shipped only number 1. Step 0001 is that
 * schema, created only where missing, so a file written by such a release is
 * taken over as it is; its `schema_migrations` row stays, so that release can
 * still open the file after a rollback. A file that an unknown newer
 * release of that line numbered beyond 1 is refused, as the old code did.
 */
import { seenKeysMigration } from '../../../../libs/database/src/seen-keys';
import { sql, type Kysely } from 'kysely';
import type { SqlDialect, StoreMigration } from '../../../../libs/database/src/store-database';

/** The newest schema the SQLite-only releases knew how to take over. */
export const LEGACY_SCHEMA_VERSION = 1;

/**
 * The version a SQLite-only release recorded in the file, or null where there
 * is none (a fresh file, or any PostgreSQL database: that release never used
 * one).
 */
export async function legacySchemaVersion(db: Kysely<unknown>, dialect: SqlDialect): Promise<number | null> {
  if (dialect !== 'sqlite') return null;
  const table = await sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`.execute(db);
  if (table.rows.length === 0) return null;
  const { rows } = await sql<{ version: number | null }>`SELECT max(version) AS version FROM schema_migrations`.execute(db);
  return rows[0]?.version ?? null;
}

/** SQLite's STRICT keeps a file's values of the declared types, as the SQLite release's tables did. */
const strictOn = (dialect: SqlDialect) => sql.raw(dialect === 'sqlite' ? 'STRICT' : '');

export const INVENTORY_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_disks_snapshots_backups_quotas',
    async up(db, dialect) {
      const legacy = await legacySchemaVersion(db, dialect);
      if (legacy !== null && legacy > LEGACY_SCHEMA_VERSION) {
        throw new Error(
          `The inventory database is at schema version ${legacy}, newer than this build knows ` +
            `(${LEGACY_SCHEMA_VERSION}); refusing to run an older build against it`,
        );
      }
      const epochMs = dialect === 'postgres' ? 'bigint' : 'integer';
      const flag = (column: string) => sql`${sql.ref(column)} IN (0, 1)`;

      await db.schema
        .createTable('disks')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status IN ('creating', 'available', 'in-use', 'error', 'awaiting-transfer', 'deleting')`),
        )
        .addColumn('size_gb', 'integer', (c) => c.notNull().check(sql`size_gb >= 1`))
        .addColumn('volume_type', 'text', (c) => c.notNull())
        .addColumn('bootable', 'integer', (c) => c.notNull().check(flag('bootable')))
        .addColumn('encrypted', 'integer', (c) => c.notNull().check(flag('encrypted')))
        .addColumn('backup_policy_id', 'text')
        .addColumn('replication_pair_id', 'text')
        .addColumn('billing_mode', 'text', (c) => c.notNull().check(sql`billing_mode IN ('postpaid', 'prepaid')`))
        .addColumn('frozen', 'integer', (c) => c.notNull().check(flag('frozen')))
        .addColumn('storage_kind', 'text', (c) => c.notNull().check(sql`storage_kind IN ('shared', 'dss', 'dess')`))
        // The transfer holding the lock; set exactly while awaiting transfer.
        .addColumn('transfer_id', 'text')
        // The transfer that last moved the disk to another project (idempotent reassign).
        .addColumn('last_transfer_id', 'text')
        .addColumn('attached_to', 'text')
        .addColumn('created_at', epochMs, (c) => c.notNull())
        .addColumn('updated_at', epochMs, (c) => c.notNull())
        // Deleted disks stay as tombstones so their ids are never reused.
        .addColumn('deleted_at', epochMs)
        .addCheckConstraint('locked_exactly_while_awaiting_transfer', sql`(status = 'awaiting-transfer') = (transfer_id IS NOT NULL)`)
        .addCheckConstraint('attached_exactly_while_in_use', sql`(status = 'in-use') = (attached_to IS NOT NULL)`)
        .addCheckConstraint('deleted_exactly_while_deleting', sql`(status = 'deleting') = (deleted_at IS NOT NULL)`)
        .modifyEnd(strictOn(dialect))
        .execute();
      await db.schema
        .createIndex('disks_by_project')
        .ifNotExists()
        .on('disks')
        .columns(['project_id', 'created_at', 'id'])
        .where(sql.ref('deleted_at'), 'is', null)
        .execute();

      for (const table of ['snapshots', 'backups'] as const) {
        await db.schema
          .createTable(table)
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('disk_id', 'text', (c) => c.notNull().references('disks.id'))
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('size_gb', 'integer', (c) => c.notNull())
          .addColumn('created_at', epochMs, (c) => c.notNull())
          .modifyEnd(strictOn(dialect))
          .execute();
        await db.schema.createIndex(`${table}_by_disk`).ifNotExists().on(table).column('disk_id').execute();
      }

      // A project without a row has the configured default limits; -1 = unlimited.
      await db.schema
        .createTable('quotas')
        .ifNotExists()
        .addColumn('project_id', 'text', (c) => c.primaryKey())
        .addColumn('volumes', 'integer', (c) => c.notNull().check(sql`volumes >= -1`))
        .addColumn('gigabytes', 'integer', (c) => c.notNull().check(sql`gigabytes >= -1`))
        .addColumn('updated_at', epochMs, (c) => c.notNull())
        .modifyEnd(strictOn(dialect))
        .execute();
    },
  },
  {
    // One row per project whose usage has been checked against its quota.
    // Its row lock is what serialises two quota checks of one project on
    // PostgreSQL, where READ COMMITTED would let both count the same usage
    // and both write. It is kept apart from quotas so that a project without
    // limits of its own keeps following the configured default. Created on
    // both databases for one schema; SQLite's transactions need no row lock,
    // so there it stays empty.
    name: '0002_quota_guards',
    async up(db, dialect) {
      await db.schema
        .createTable('quota_guards')
        .ifNotExists()
        .addColumn('project_id', 'text', (c) => c.primaryKey())
        .modifyEnd(strictOn(dialect))
        .execute();
    },
  },
  // Request nonces of the internal API, shared by the inventory's replicas
  // so that a signed call replayed to another replica is refused there too.
  seenKeysMigration('0003_seen_keys'),
];
