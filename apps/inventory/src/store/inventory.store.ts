import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { migrate } from './inventory.migrations';

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the SQLite file and brings its schema up to date. WAL lets readers
 * run beside the writer; synchronous=FULL because the worker treats a 200
 * from a transfer step as done, so a committed reassign must survive power
 * loss, not only a process crash.
 */
export function openInventoryDatabase(file: string): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = FULL');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The open database as a Nest provider: closed after the HTTP server stops. */
export class InventoryStore implements OnApplicationShutdown {
  private constructor(readonly db: Database.Database) {}

  static open(file: string): InventoryStore {
    return new InventoryStore(openInventoryDatabase(file));
  }

  /** True when the database answers a query. */
  isHealthy(): boolean {
    if (!this.db.open) return false;
    return this.db.prepare('SELECT 1').pluck().get() === 1;
  }

  onApplicationShutdown(): void {
    if (!this.db.open) return;
    this.db.close();
    new Logger('InventoryStore').log(`Closed ${this.db.name}`);
  }
}
