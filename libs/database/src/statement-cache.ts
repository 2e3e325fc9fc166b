/**
 * A SQLite connection for Kysely that keeps its prepared statements.
 *
 * Kysely's SQLite driver prepares every query again (better-sqlite3's
 * prepare parses and plans the SQL), though a store runs the same few
 * statements over and over: preparing cost about as much as running a
 * simple statement (docs/performance.md). Here a statement is prepared once
 * per distinct SQL text and reused, up to `capacity` texts, the least
 * recently used dropped first (texts that differ only by the length of an
 * IN list are distinct, so the set is not closed). Sharing a statement is
 * safe because a better-sqlite3 connection runs one statement at a time:
 * while one iterates, no other runs on it at all.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export const STATEMENT_CACHE_CAPACITY = 200;

export class StatementCachingDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly handle: Database,
    private readonly capacity: number = STATEMENT_CACHE_CAPACITY,
  ) {}

  prepare(sql: string): SqliteStatement {
    const kept = this.statements.get(sql);
    if (kept !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so its first key is the least recently used.
      this.statements.delete(sql);
      this.statements.set(sql, kept);
      return kept;
    }
    const statement = this.handle.prepare(sql);
    this.statements.set(sql, statement);
    if (this.statements.size > this.capacity) {
      const oldest = this.statements.keys().next().value as string;
      this.statements.delete(oldest);
    }
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.handle.close();
  }

  /** Distinct statements kept now. */
  get size(): number {
    return this.statements.size;
  }
}
