import type { Database, Statement } from 'better-sqlite3';

/**
 * Keeps each SQL text beside the code that runs it while preparing it once.
 * Every statement runs on the one connection, so calls made inside
 * `immediate(...)` belong to that transaction.
 */
export class Sql {
  private readonly statements = new Map<string, Statement<unknown[], unknown>>();

  constructor(readonly db: Database) {}

  get<R>(sql: string, ...params: unknown[]): R | undefined {
    return this.statement(sql).get(...params) as R | undefined;
  }

  all<R>(sql: string, ...params: unknown[]): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  /** Runs a write and returns how many rows it changed. */
  run(sql: string, ...params: unknown[]): number {
    return this.statement(sql).run(...params).changes;
  }

  /**
   * Runs `work` in a BEGIN IMMEDIATE transaction: the write lock is taken
   * before the first read, so what `work` reads cannot change before it
   * writes (another process on the file waits, up to busy_timeout). Nested
   * calls become savepoints of the outer transaction. A throw rolls back.
   */
  immediate<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  private statement(sql: string): Statement<unknown[], unknown> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
