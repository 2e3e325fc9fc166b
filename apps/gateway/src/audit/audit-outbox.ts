/**
 * The gateway's transactional outbox for API audit records: a small SQLite
 * file local to the gateway. A record is inserted, synchronously, before the
 * client can see the answer of the call it describes; the relay in
 * ApiAuditService publishes rows in insertion order and deletes them only
 * after Kafka acknowledged them. A gateway killed with records unsent finds
 * them here when it starts again.
 *
 * WAL with synchronous=NORMAL: a commit is appended to the WAL without an
 * fsync, so it survives a crash of the process (the data is in the OS page
 * cache, which SQLite reads back on the next open) but the last commits may
 * be lost on power loss or an OS crash. The spec asks for no loss on a crash
 * of any single process, and skipping the per-call fsync keeps the insert in
 * the tens of microseconds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { OutgoingRecord } from '../../../../libs/contracts/src/events';

export interface OutboxRow {
  /** Insertion order; rows are read and published in it. */
  seq: number;
  record: OutgoingRecord;
}

export class AuditOutbox {
  private readonly insertStatement: Database.Statement<[string]>;
  private readonly oldestStatement: Database.Statement<[number], { seq: number; record: string }>;
  private readonly deleteUpToStatement: Database.Statement<[number]>;
  private readonly countStatement: Database.Statement<[], { n: number }>;

  private constructor(private readonly db: Database.Database) {
    // AUTOINCREMENT: a seq is never reused, even after the newest rows were deleted.
    db.exec(`CREATE TABLE IF NOT EXISTS audit_outbox (
      seq    INTEGER PRIMARY KEY AUTOINCREMENT,
      record TEXT    NOT NULL
    )`);
    this.insertStatement = db.prepare('INSERT INTO audit_outbox (record) VALUES (?)');
    this.oldestStatement = db.prepare('SELECT seq, record FROM audit_outbox ORDER BY seq LIMIT ?');
    this.deleteUpToStatement = db.prepare('DELETE FROM audit_outbox WHERE seq <= ?');
    this.countStatement = db.prepare('SELECT count(*) AS n FROM audit_outbox');
  }

  /** Opens (creating if needed) the outbox file; ':memory:' gives one that is not durable, for tests. */
  static open(file: string): AuditOutbox {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      return new AuditOutbox(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Appends a record; it is committed (in the WAL) when this returns. */
  append(record: OutgoingRecord): void {
    this.insertStatement.run(JSON.stringify(record));
  }

  /** The oldest rows, at most `limit`, in insertion order; none once closed. */
  oldest(limit: number): OutboxRow[] {
    if (!this.db.open) return [];
    return this.oldestStatement.all(limit).map((row) => ({ seq: row.seq, record: JSON.parse(row.record) as OutgoingRecord }));
  }

  /** Deletes every row up to and including `seq`: call it only once those were acknowledged. */
  removeUpTo(seq: number): void {
    if (this.db.open) this.deleteUpToStatement.run(seq);
  }

  /** Rows not yet acknowledged. */
  count(): number {
    return this.db.open ? this.countStatement.get()!.n : 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
