/**
 * Which errors while applying an effect stop the batch (the database's
 * trouble: deliver the batch again) and which set the record aside (its
 * own doing: it would fail on every delivery). The processor over real
 * databases is tested in test/stores/consumer-database.test.ts.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../database/src/transient';
import { isDatabaseFailure } from './event-processor';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isDatabaseFailure', () => {
  it('stops the batch when SQLite is busy, full or unreadable', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_CORRUPT', 'SQLITE_READONLY']) {
      expect(isDatabaseFailure(new Database.SqliteError(code, code)), code).toBe(true);
    }
  });

  it('stops the batch when PostgreSQL loses the connection, rolls the transaction back, or runs out of room', () => {
    for (const code of ['08006', '25P02', '40001', '40P01', '53100', '55P03', '57P01', '58030', 'XX000']) {
      expect(isDatabaseFailure(withCode(code)), code).toBe(true);
    }
    expect(isDatabaseFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseFailure(withCode('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseFailure(new DatabaseUnavailableError('billing', new Error('gone')))).toBe(true);
  });

  it('sets the record aside for a constraint it breaks, bad data, or a plain bug', () => {
    for (const error of [
      new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_PRIMARYKEY'),
      new Database.SqliteError('audit_events is append-only', 'SQLITE_CONSTRAINT_TRIGGER'),
      withCode('23505', 'duplicate key value violates unique constraint'),
      withCode('23001', 'audit_events is append-only'),
      withCode('22003', 'value out of range'),
      withCode('42703', 'column does not exist'),
      new RangeError('negative amount'),
      'not even an Error',
    ]) {
      expect(isDatabaseFailure(error), String(error)).toBe(false);
    }
  });
});
