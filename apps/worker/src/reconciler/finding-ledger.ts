/**
 * The ids of reconciler findings already on Kafka. A disagreement the
 * reconciler only reports is found again on every run until someone fixes
 * it; this is what keeps it from being re-sent every few minutes. Ids are
 * deterministic, so losing this file costs one duplicate per finding, which
 * consumers drop by id.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { FindingLedgerPort } from '../../../../activities/reconciler.activities';

/** Ordered, append-only; each entry bumps PRAGMA user_version once. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE reported_findings (
    id               TEXT    PRIMARY KEY,
    first_reported_at INTEGER NOT NULL
  ) STRICT;
  `,
];

export class FindingLedger implements FindingLedgerPort {
  private readonly selectUnreported: Database.Statement<[string], string>;
  private readonly insertReported: Database.Statement<[string, number]>;
  private readonly markAll: (ids: readonly string[], atMs: number) => void;

  private constructor(private readonly db: Database.Database) {
    this.selectUnreported = db
      .prepare<[string], string>(
        `SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM reported_findings) ORDER BY key`,
      )
      .pluck();
    this.insertReported = db.prepare('INSERT INTO reported_findings (id, first_reported_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
    this.markAll = db.transaction((ids: readonly string[], atMs: number) => {
      for (const id of ids) this.insertReported.run(id, atMs);
    });
  }

  /** Opens (creating the file, its folder and the table if needed) the ledger at dbPath. */
  static open(dbPath: string): FindingLedger {
    fs.mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    const db = new Database(dbPath, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.transaction(() => {
        const current = db.pragma('user_version', { simple: true }) as number;
        for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version]);
        if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
      }).immediate();
      return new FindingLedger(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The ids among `ids` never marked reported, in the order given. */
  unreported(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    return this.selectUnreported.all(JSON.stringify(ids));
  }

  markReported(ids: readonly string[], atMs: number): void {
    this.markAll(ids, atMs);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
