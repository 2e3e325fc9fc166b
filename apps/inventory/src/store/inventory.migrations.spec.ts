import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVENTORY_MIGRATIONS, migrate, type Migration } from './inventory.migrations';
import { openInventoryDatabase } from './inventory.store';

describe('inventory migrations', () => {
  let dir: string;
  let file: string;
  const open: Database.Database[] = [];
  const track = (db: Database.Database) => (open.push(db), db);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inventory-migrations-'));
    file = path.join(dir, 'nested', 'inventory.sqlite');
  });

  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const versions = (db: Database.Database) =>
    db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();

  it('creates the schema in a fresh file, with WAL, foreign keys and a busy timeout', () => {
    const db = track(openInventoryDatabase(file));
    expect(versions(db)).toEqual(INVENTORY_MIGRATIONS.map((m) => m.version));
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['backups', 'disks', 'quotas', 'schema_migrations', 'snapshots']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
  });

  it('re-running on a current file applies nothing and keeps the data', () => {
    const first = track(openInventoryDatabase(file));
    first.prepare(`INSERT INTO quotas (project_id, volumes, gigabytes, updated_at) VALUES ('p1', 1, 2, 3)`).run();
    first.close();

    const again = track(openInventoryDatabase(file));
    expect(migrate(again)).toEqual([]);
    expect(versions(again)).toEqual([1]);
    expect(again.prepare('SELECT volumes FROM quotas').pluck().get()).toBe(1);
  });

  it('applies only the migrations a file has not seen, in order', () => {
    const db = track(openInventoryDatabase(file));
    const next: Migration[] = [
      ...INVENTORY_MIGRATIONS,
      { version: 2, name: 'test: a column', sql: 'ALTER TABLE quotas ADD COLUMN note TEXT' },
      { version: 3, name: 'test: an index', sql: 'CREATE INDEX quotas_by_note ON quotas (note)' },
    ];
    expect(migrate(db, next)).toEqual([2, 3]);
    expect(migrate(db, next)).toEqual([]);
    expect(versions(db)).toEqual([1, 2, 3]);
  });

  it('refuses a list that is not numbered 1, 2, 3... in order', () => {
    const db = track(new Database(':memory:'));
    const gap: Migration[] = [{ version: 1, name: 'a', sql: '' }, { version: 3, name: 'c', sql: '' }];
    expect(() => migrate(db, gap)).toThrow(/expected 2/);
  });

  it('refuses to run an older build against a newer schema', () => {
    const db = track(openInventoryDatabase(file));
    migrate(db, [...INVENTORY_MIGRATIONS, { version: 2, name: 'future', sql: 'SELECT 1' }]);
    db.close();
    expect(() => openInventoryDatabase(file)).toThrow(/newer than this build/);
  });

  it('a failing migration is rolled back whole and not recorded', () => {
    const db = track(openInventoryDatabase(file));
    const broken: Migration = {
      version: 2,
      name: 'half broken',
      sql: 'CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);',
    };
    expect(() => migrate(db, [...INVENTORY_MIGRATIONS, broken])).toThrow();
    expect(versions(db)).toEqual([1]);
    expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).pluck().get()).toBe(0);
  });
});
