import Database from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { StatementCachingDatabase } from './statement-cache';

describe('StatementCachingDatabase', () => {
  let cached: StatementCachingDatabase;
  afterEach(() => cached.close());

  function open(capacity?: number): StatementCachingDatabase {
    const handle = new Database(':memory:');
    handle.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    cached = new StatementCachingDatabase(handle, capacity);
    return cached;
  }

  it('prepares a text once and hands the same statement out again', () => {
    const db = open();
    const first = db.prepare('SELECT v FROM t WHERE id = ?');
    expect(db.prepare('SELECT v FROM t WHERE id = ?')).toBe(first);
    expect(db.prepare('SELECT v FROM t WHERE id > ?')).not.toBe(first);
    expect(db.size).toBe(2);
  });

  it('keeps at most its capacity, dropping the least recently used text', () => {
    const db = open(2);
    const a = db.prepare('SELECT 1');
    const b = db.prepare('SELECT 2');
    expect(db.prepare('SELECT 1')).toBe(a);
    db.prepare('SELECT 3');
    expect(db.size).toBe(2);
    expect(db.prepare('SELECT 1')).toBe(a);
    expect(db.prepare('SELECT 2')).not.toBe(b);
  });

  it('gives Kysely the same answers, with new parameters each time, and sees rows written in between', async () => {
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({ dialect: new SqliteDialect({ database: open() }) });
    for (const v of ['x', 'y', 'z']) await db.insertInto('t').values({ v }).execute();
    const read = (v: string) => db.selectFrom('t').select('id').where('v', '=', v).executeTakeFirst();
    expect(await read('y')).toEqual({ id: 2 });
    expect(await read('z')).toEqual({ id: 3 });
    await db.deleteFrom('t').where('v', '=', 'z').execute();
    expect(await read('z')).toBeUndefined();
    expect(cached.size).toBe(3);
  });
});
