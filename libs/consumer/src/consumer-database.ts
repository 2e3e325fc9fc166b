/**
 * The database of an event consumer: the consumer machinery's own tables
 * (which event ids have taken effect, and the records it could not use)
 * beside the application's, in one store (a SQLite file, or a schema of a
 * PostgreSQL database shared by the consumer's replicas), so that an
 * event's effect and the note that it took effect are one transaction.
 *
 * synchronous=FULL on SQLite: a transaction is on disk before the Kafka
 * offset that covers it is committed. With NORMAL, a power loss could drop
 * transactions whose offsets Kafka already holds, and those events would
 * never come back. Transactions are per batch, so the fsync is not paid per
 * event. PostgreSQL commits durably as it is.
 */
import { type QueryExecutorProvider, sql } from 'kysely';
import type { DatabaseTarget } from '../../database/src/database-url';
import { type SqlDialect, StoreDatabase, type StoreMigration } from '../../database/src/store-database';
import type { StoreName } from '../../database/src/stores';

export type ConsumedOutcome = 'applied' | 'ignored' | 'unknown' | 'malformed' | 'failed';
export type DeadLetterReason = 'unknown' | 'malformed' | 'failed';

export interface ConsumedEventsTable {
  event_id: string;
  event_type: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  outcome: ConsumedOutcome;
  consumed_at: number;
}

export interface DeadLettersTable {
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  reason: DeadLetterReason;
  detail: string;
  event_id: string | null;
  event_type: string | null;
  record_key: Buffer | null;
  headers: string;
  value: Buffer | null;
  received_at: number;
}

/** The machinery's tables, as every consumer's database has them. */
export interface ConsumerTables {
  consumed_events: ConsumedEventsTable;
  dead_letters: DeadLettersTable;
}

/** Types that differ between the two databases; everything else is written once. */
export function columnTypes(dialect: SqlDialect) {
  const postgres = dialect === 'postgres';
  return {
    epochMs: postgres ? 'bigint' : 'integer',
    bytes: postgres ? 'bytea' : 'blob',
    /**
     * Text that pages and lists are ordered by. SQLite compares text byte by
     * byte; "C" makes PostgreSQL do the same whatever locale its cluster was
     * made with, so both databases answer in one order and a page token
     * means the same position on either.
     */
    sortedText: postgres ? sql`text collate "C"` : sql`text`,
    /** SQLite's STRICT refuses a value of the wrong type, as PostgreSQL does anyway. */
    strict: postgres ? sql`` : sql`strict`,
  } as const;
}

/**
 * Makes a table refuse every UPDATE and DELETE, whoever asks: rows once
 * written stay as written. Safe to run again, so an older SQLite file that
 * has the triggers already is left as it is. On PostgreSQL TRUNCATE is
 * refused too, since it bypasses row triggers; SQLite has no TRUNCATE.
 */
export async function makeAppendOnly(db: QueryExecutorProvider, dialect: SqlDialect, table: string): Promise<void> {
  if (dialect === 'sqlite') {
    for (const operation of ['update', 'delete']) {
      await sql
        .raw(
          `CREATE TRIGGER IF NOT EXISTS ${table}_no_${operation} BEFORE ${operation.toUpperCase()} ON ${table}
           BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
        )
        .execute(db);
    }
    return;
  }
  // One function per schema serves every append-only table in it.
  await sql`
    CREATE OR REPLACE FUNCTION refuse_change_to_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END
    $$`.execute(db);
  await sql
    .raw(
      `CREATE OR REPLACE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${table}
       FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE OR REPLACE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
       FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()`,
    )
    .execute(db);
}

/**
 * The machinery's tables. consumed_events holds one row per event id that
 * was handled, whatever the outcome, and is what makes a redelivered event a
 * duplicate: its primary key is the claim two replicas race for.
 * dead_letters keeps, by position, every record the consumer could not use
 * (damaged, of an unknown type, or refused by the handler), with its bytes,
 * for an operator to look at or replay by hand.
 *
 * Migration names are one sequence per database, shared with the
 * application's steps (openConsumerDatabase sorts the two lists together):
 * a new step of either takes the next free number.
 */
export const CONSUMER_MIGRATIONS: readonly StoreMigration[] = [
  {
    // The SQLite-only release created these same tables (its bookkeeping
    // was a table of its own, schema_migrations, left where it is): if not
    // exists takes such a file over as it is.
    name: '0001_consumer_events',
    async up(db, dialect) {
      const types = columnTypes(dialect);
      await db.schema
        .createTable('consumed_events')
        .ifNotExists()
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('kafka_partition', 'integer', (c) => c.notNull())
        .addColumn('kafka_offset', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome IN ('applied', 'ignored', 'unknown', 'malformed', 'failed')`))
        .addColumn('consumed_at', types.epochMs, (c) => c.notNull())
        .modifyEnd(types.strict)
        .execute();
      await db.schema
        .createTable('dead_letters')
        .ifNotExists()
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('kafka_partition', 'integer', (c) => c.notNull())
        .addColumn('kafka_offset', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason IN ('unknown', 'malformed', 'failed')`))
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .addColumn('event_type', 'text')
        .addColumn('record_key', types.bytes)
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('value', types.bytes)
        .addColumn('received_at', types.epochMs, (c) => c.notNull())
        .addPrimaryKeyConstraint('dead_letters_pkey', ['topic', 'kafka_partition', 'kafka_offset'])
        .modifyEnd(types.strict)
        .execute();
      await makeAppendOnly(db, dialect, 'consumed_events');
      await makeAppendOnly(db, dialect, 'dead_letters');
    },
  },
];

export interface ConsumerDatabaseOptions {
  /** billing or audit: names the PostgreSQL schema and the migration tables. */
  store: StoreName;
  target: DatabaseTarget;
  /** The application's steps; the machinery's are added and sorted in with them. */
  migrations: readonly StoreMigration[];
  poolMax?: number;
}

/** Opens (creating if needed) a consumer's database with the machinery's tables and the application's. */
export function openConsumerDatabase<AppTables>(options: ConsumerDatabaseOptions): Promise<StoreDatabase<ConsumerTables & AppTables>> {
  const migrations = [...CONSUMER_MIGRATIONS, ...options.migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return StoreDatabase.open<ConsumerTables & AppTables>({
    store: options.store,
    target: options.target,
    migrations,
    poolMax: options.poolMax,
    sqliteSynchronous: 'FULL',
  });
}
