/**
 * What the consumer stores' tests share: a file as the SQLite-only release
 * left it, and two replicas' connections in one test process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { type QueryExecutorProvider, sql } from 'kysely';
import type { SqlDialect } from '../../libs/database/src/store-database';

/**
 * Two SQLite connections in one thread cannot wait for each other: the
 * busy handler sleeps the whole thread, the holder of the lock included.
 * So the test's replicas give up at once and take the processor's retry,
 * as two processes would after waiting. PostgreSQL replicas wait as they are.
 */
export async function sharingOneThread(...replicas: { dialect: SqlDialect; db: QueryExecutorProvider }[]): Promise<void> {
  for (const replica of replicas) if (replica.dialect === 'sqlite') await sql`PRAGMA busy_timeout = 0`.execute(replica.db);
}

/*
 * A billing.sqlite or audit.sqlite of the SQLite-only release: its schema
 * word for word, recorded in its own bookkeeping table (schema_migrations),
 * so that the tests can show such a file is taken over as it is, rows and
 * triggers included.
 */
const appendOnlyTriggers = (table: string) =>
  ['UPDATE', 'DELETE']
    .map((op) => `CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`)
    .join('\n');

const RELEASE_1 = {
  'consumer/1': `
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
  ${appendOnlyTriggers('dead_letters')}`,
  'billing/1': `
  CREATE TABLE ownership_facts (
    event_id               TEXT    PRIMARY KEY,
    disk_id                TEXT    NOT NULL,
    transfer_id            TEXT    NOT NULL,
    kind                   TEXT    NOT NULL CHECK (kind IN ('created', 'accepted', 'deleted', 'expired')),
    source_project_id      TEXT    NOT NULL,
    destination_project_id TEXT,
    at_ms                  INTEGER NOT NULL,
    CHECK ((kind = 'accepted') = (destination_project_id IS NOT NULL))
  ) STRICT;
  CREATE INDEX ownership_facts_by_disk ON ownership_facts (disk_id);
  CREATE TABLE ownership_intervals (
    disk_id                TEXT    NOT NULL,
    seq                    INTEGER NOT NULL,
    project_id             TEXT    NOT NULL,
    from_ms                INTEGER NOT NULL,
    to_ms                  INTEGER CHECK (to_ms IS NULL OR to_ms > from_ms),
    started_by_transfer_id TEXT,
    ended_by_transfer_id   TEXT,
    PRIMARY KEY (disk_id, seq)
  ) STRICT;
  CREATE INDEX ownership_intervals_by_project ON ownership_intervals (project_id, from_ms);`,
  'audit/1': `
  CREATE TABLE audit_events (
    event_id         TEXT    PRIMARY KEY,
    topic            TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    time_ms          INTEGER NOT NULL,
    subject          TEXT    NOT NULL,
    record_key       TEXT,
    transfer_id      TEXT,
    disk_id          TEXT,
    actor_project_id TEXT,
    actor_user_id    TEXT,
    data             TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX audit_events_by_time     ON audit_events (time_ms, event_id);
  CREATE INDEX audit_events_by_transfer ON audit_events (transfer_id, time_ms, event_id);
  CREATE INDEX audit_events_by_disk     ON audit_events (disk_id, time_ms, event_id);
  CREATE INDEX audit_events_by_actor    ON audit_events (actor_project_id, time_ms, event_id);
  CREATE INDEX audit_events_by_user     ON audit_events (actor_user_id, time_ms, event_id);
  CREATE TABLE audit_event_projects (
    project_id TEXT    NOT NULL,
    time_ms    INTEGER NOT NULL,
    event_id   TEXT    NOT NULL REFERENCES audit_events (event_id),
    role       TEXT    NOT NULL CHECK (role IN ('actor', 'owner', 'recipient', 'path')),
    PRIMARY KEY (project_id, time_ms, event_id, role)
  ) STRICT, WITHOUT ROWID;
  ${appendOnlyTriggers('audit_events')}
  ${appendOnlyTriggers('audit_event_projects')}`,
} as const;

/** Writes the release's file for `app`, then lets `seed` put rows in it as that release would have. */
export function writeReleaseOneFile(file: string, app: 'billing' | 'audit', seed: (db: Database.Database) => void = () => undefined): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
    for (const id of ['consumer/1', `${app}/1`] as const) {
      db.exec(RELEASE_1[id]);
      db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(id, Date.UTC(2026, 0, 1));
    }
    seed(db);
  } finally {
    db.close();
  }
}
