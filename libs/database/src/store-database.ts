/**
 * One store's connection: a Kysely instance over SQLite (better-sqlite3) or
 * PostgreSQL (pg), the store's migrations applied on open, and a bounded
 * retry around each unit of work.
 *
 * Why Kysely: it is a query builder, not an ORM, so each repository keeps
 * writing the SQL it means (conditional updates, ON CONFLICT, row counts)
 * once for both databases; it runs on Node 20 (0.28; 0.29 needs Node 22);
 * and its migrator takes a lock, so two replicas starting together apply a
 * migration once. The few places the dialects differ (column types, the
 * locking clause, advisory locks) branch on `dialect` where they occur.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, sql, SqliteDialect, type Transaction } from 'kysely';
import { type CustomTypesConfig, Pool, types as pgTypes } from 'pg';
import { type DatabaseTarget, describeTarget } from './database-url';
import { STORES, type StoreName } from './stores';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withDatabaseRetry } from './transient';
import { StatementCachingDatabase } from './statement-cache';

export type SqlDialect = DatabaseTarget['dialect'];

/**
 * One step of a store's schema. Names sort in the order they run (Kysely
 * orders by name): `0001_transfers`, `0002_...`. Never edit one that has
 * shipped; add the next. A step gets the dialect for the few column types
 * that differ, and should create with ifNotExists so that a SQLite file made
 * by an older release is taken over as it is.
 */
export interface StoreMigration {
  name: string;
  up(db: Kysely<unknown>, dialect: SqlDialect): Promise<void>;
}

export interface OpenStoreOptions {
  store: StoreName;
  target: DatabaseTarget;
  migrations: readonly StoreMigration[];
  /** PostgreSQL connections this process may hold for the store. */
  poolMax?: number;
  /** SQLite only: FULL where a commit must be on disk before something outside is told (a Kafka offset). */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  retry?: RetryPolicy;
}

/** The store could not be opened: one line naming the store, where it points, and why. */
export class DatabaseStartError extends Error {
  constructor(store: StoreName, target: DatabaseTarget, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(`${store} store (${describeTarget(target)}): ${reason || (cause as { code?: string })?.code || 'cannot open'}`);
    this.name = 'DatabaseStartError';
  }
}

/** pg hands int8 back as text so as not to lose precision; every int8 here is a count or epoch milliseconds. */
const PG_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    if (format === 'binary') return pgTypes.getTypeParser(oid, 'binary') as (value: Buffer) => unknown;
    return pgTypes.getTypeParser(oid) as (value: string) => unknown;
  }) as CustomTypesConfig['getTypeParser'],
};

export class StoreDatabase<DB> {
  private constructor(
    readonly store: StoreName,
    readonly dialect: SqlDialect,
    readonly db: Kysely<DB>,
    private readonly retryPolicy: RetryPolicy,
  ) {}

  /** Opens the store and brings its schema up to date; throws DatabaseStartError with one line if it cannot. */
  static async open<DB>(options: OpenStoreOptions): Promise<StoreDatabase<DB>> {
    const { store, target } = options;
    let db: Kysely<DB> | undefined;
    try {
      db = target.dialect === 'sqlite' ? openSqlite<DB>(target.file, options.sqliteSynchronous ?? 'NORMAL') : openPostgres<DB>(target, options.poolMax ?? 5);
      await migrate(db, store, target, options.migrations);
      return new StoreDatabase(store, target.dialect, db, options.retry ?? DEFAULT_RETRY_POLICY);
    } catch (err) {
      await db?.destroy().catch(() => undefined);
      throw new DatabaseStartError(store, target, err);
    }
  }

  /** Runs work outside a transaction, again on a transient error. */
  run<T>(work: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    return withDatabaseRetry(this.store, () => work(this.db), this.retryPolicy);
  }

  /** Runs work in one transaction, the whole transaction again on a transient error. */
  transaction<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return withDatabaseRetry(this.store, () => this.db.transaction().execute(work), this.retryPolicy);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function openSqlite<DB>(file: string, synchronous: 'NORMAL' | 'FULL'): Kysely<DB> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const handle = new Database(file, { timeout: 5000 });
  try {
    // WAL: readers never block the writer. The busy timeout covers two
    // processes meeting on one file (the embedded default shares some).
    handle.pragma('journal_mode = WAL');
    handle.pragma(`synchronous = ${synchronous}`);
    handle.pragma('busy_timeout = 5000');
    handle.pragma('foreign_keys = ON');
  } catch (err) {
    handle.close();
    throw err;
  }
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: new StatementCachingDatabase(handle) }) });
}

function openPostgres<DB>(target: Extract<DatabaseTarget, { dialect: 'postgres' }>, max: number): Kysely<DB> {
  const pool = new Pool({
    connectionString: target.url,
    max,
    // Every unqualified name the store's queries use is its own schema's.
    options: `-c search_path=${target.schema}`,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    types: PG_TYPES,
  });
  // A connection the server drops emits 'error': an idle one on the pool, one
  // in use on its client. Without listeners either would crash the process;
  // the query using it still fails (and is retried), and the pool discards it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Serves the store's own steps to Kysely's migrator, each with the dialect it runs on. */
function checkOrder(migrations: readonly StoreMigration[]): void {
  const names = new Set<string>();
  let previous = '';
  for (const { name } of migrations) {
    if (names.has(name)) throw new Error(`migration ${name} is listed twice`);
    if (name <= previous) throw new Error(`migration ${name} sorts before ${previous}: name them in the order they run`);
    names.add(name);
    previous = name;
  }
}

function providerOf(migrations: readonly StoreMigration[], dialect: SqlDialect): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(migrations.map((m): [string, Migration] => [m.name, { up: (db) => m.up(db, dialect) }])),
  };
}

/**
 * On PostgreSQL the store's schema is created and migrated under a session
 * advisory lock, so replicas starting together wait for one another instead
 * of racing on CREATE SCHEMA; the migrator's own lock table would serialise
 * the steps but not the schema's creation.
 */
async function migrate<DB>(db: Kysely<DB>, store: StoreName, target: DatabaseTarget, migrations: readonly StoreMigration[]): Promise<void> {
  checkOrder(migrations);
  const { schema } = STORES[store];
  const tables = { migrationTableName: `${schema}_migrations`, migrationLockTableName: `${schema}_migrations_lock` };
  const apply = async (on: Kysely<unknown>) => {
    if (await isNewerThanThisRelease(on, tables.migrationTableName, migrations)) return;
    const { error } = await new Migrator({ db: on, provider: providerOf(migrations, target.dialect), ...tables }).migrateToLatest();
    if (error !== undefined) throw error instanceof Error ? error : new Error('a migration failed', { cause: error });
  };
  if (target.dialect === 'sqlite') return applyOnSqlite(() => apply(db as Kysely<unknown>));
  await db.connection().execute(async (connection) => {
    const lockKey = `evs-migrations:${schema}`;
    await sql`SELECT pg_advisory_lock(hashtext(${lockKey}))`.execute(connection);
    try {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(connection);
      await apply(connection as Kysely<unknown>);
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtext(${lockKey}))`.execute(connection);
    }
  });
}

/**
 * During a rolling upgrade a replica of the previous release may start after
 * a newer one has migrated. Migrations only ever add, so the older code runs
 * on the newer schema; Kysely's migrator would instead refuse to start on
 * finding steps it does not know. True when every step this release knows
 * is applied and later ones are too: then there is nothing to do. A schema
 * that lacks one of this release's steps while holding unknown ones is not
 * a rolling upgrade, and the migrator's own error stands.
 */
async function isNewerThanThisRelease(db: Kysely<unknown>, table: string, migrations: readonly StoreMigration[]): Promise<boolean> {
  let applied: string[];
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM ${sql.table(table)}`.execute(db);
    applied = rows.map((r) => r.name);
  } catch {
    return false; // no migration table yet: a new database
  }
  const known = new Set(migrations.map((m) => m.name));
  const unknown = applied.filter((name) => !known.has(name));
  return unknown.length > 0 && migrations.every((m) => applied.includes(m.name));
}

/**
 * Kysely's migrator takes no lock on SQLite (it expects one connection), so
 * two processes opening a new file together can both start the same step and
 * the later one fails on the migration table's key or on SQLite's write
 * lock. The steps are idempotent (ifNotExists), so running the migrator
 * again, which then finds them recorded, is the fix.
 */
async function applyOnSqlite(apply: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply();
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
}
