/**
 * The SQLite file of an event consumer: the consumer machinery's own tables
 * (which event ids have taken effect, and the records it could not use)
 * beside the application's, so that an event's effect and the note that it
 * took effect are one transaction.
 *
 * synchronous=FULL: a transaction is on disk before the Kafka offset that
 * covers it is committed. With NORMAL, a power loss could drop transactions
 * whose offsets Kafka already holds, and those events would never come back.
 * Transactions are per batch, so the fsync is not paid per event.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

export interface Migration {
  /** Stable and unique across the file, e.g. `consumer/1`, `billing/1`; never rename one that has shipped. */
  id: string;
  sql: string;
}

/** SQL that makes a table refuse every UPDATE and DELETE: rows once written stay as written. */
export function appendOnlyTriggers(table: string): string {
  return ['UPDATE', 'DELETE']
    .map(
      (operation) => `
  CREATE TRIGGER ${table}_no_${operation.toLowerCase()} BEFORE ${operation} ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`,
    )
    .join('\n');
}

/**
 * The machinery's tables. consumed_events holds one row per event id that
 * was handled, whatever the outcome, and is what makes a redelivered event a
 * duplicate. dead_letters keeps, by position, every record the consumer
 * could not use (damaged, of an unknown type, or refused by the handler),
 * with its bytes, for an operator to look at or replay by hand.
 */
export const CONSUMER_MIGRATIONS: readonly Migration[] = [
  {
    id: 'consumer/1',
    sql: `
  CREATE TABLE consumed_events (
    event_id        TEXT    PRIMARY KEY,
    event_type      TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset    TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('applied', 'ignored', 'unknown', 'malformed', 'failed')),
    consumed_at     INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE dead_letters (
    topic           TEXT    NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset    TEXT    NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason IN ('unknown', 'malformed', 'failed')),
    detail          TEXT    NOT NULL,
    event_id        TEXT,
    event_type      TEXT,
    record_key      BLOB,
    headers         TEXT    NOT NULL,
    value           BLOB,
    received_at     INTEGER NOT NULL,
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
  ) STRICT;
  ${appendOnlyTriggers('consumed_events')}
  ${appendOnlyTriggers('dead_letters')}
  `,
  },
];

/**
 * Applies, in one write transaction, each migration not yet recorded. The
 * IMMEDIATE lock means two processes opening the file together cannot both
 * apply one.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const ids = new Set<string>();
  for (const { id } of migrations) {
    if (ids.has(id)) throw new Error(`migration ${id} is listed twice`);
    ids.add(id);
  }
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
  const applied = db.prepare<[string], { id: string }>('SELECT id FROM schema_migrations WHERE id = ?');
  const record = db.prepare<[string, number]>('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  db.transaction(() => {
    for (const migration of migrations) {
      if (applied.get(migration.id)) continue;
      db.exec(migration.sql);
      record.run(migration.id, Date.now());
    }
  }).immediate();
}

/** Opens (creating if needed) a consumer's file with the machinery's tables and the application's. */
export function openConsumerDatabase(file: string, appMigrations: readonly Migration[]): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, [...CONSUMER_MIGRATIONS, ...appMigrations]);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
