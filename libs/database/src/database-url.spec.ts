import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, describeTarget, resolveStoreTarget } from './database-url';

const base = { own: '', shared: '', legacyFile: '', dataDir: '/srv/evs' };

describe('resolveStoreTarget', () => {
  it('keeps each store in its own SQLite file in DATA_DIR when nothing is said', () => {
    expect(resolveStoreTarget('readModel', base)).toEqual({ dialect: 'sqlite', file: '/srv/evs/transfers.sqlite' });
    expect(resolveStoreTarget('billing', { ...base, shared: 'sqlite:' })).toEqual({ dialect: 'sqlite', file: '/srv/evs/billing.sqlite' });
    expect(resolveStoreTarget('audit', { ...base, shared: 'file:' })).toEqual({ dialect: 'sqlite', file: '/srv/evs/audit.sqlite' });
  });

  it('honours the older *_DB_PATH file unless a URL says otherwise', () => {
    expect(resolveStoreTarget('readModel', { ...base, legacyFile: '/var/rm.db' })).toEqual({ dialect: 'sqlite', file: '/var/rm.db' });
    expect(resolveStoreTarget('readModel', { ...base, legacyFile: '/var/rm.db', shared: 'postgres://u@db/evs' })).toMatchObject({ dialect: 'postgres' });
  });

  it('puts every store in its own schema of one PostgreSQL database', () => {
    const shared = 'postgres://evs:secret@db.internal:5432/evs';
    expect(resolveStoreTarget('readModel', { ...base, shared })).toEqual({ dialect: 'postgres', url: shared, schema: 'read_model' });
    expect(resolveStoreTarget('billing', { ...base, shared: shared.replace('postgres:', 'postgresql:') })).toMatchObject({ schema: 'billing' });
  });

  it('lets a store’s own URL win over DATABASE_URL', () => {
    expect(resolveStoreTarget('audit', { ...base, shared: 'postgres://u@db/evs', own: 'sqlite:audit/log.sqlite' })).toEqual({
      dialect: 'sqlite',
      file: '/srv/evs/audit/log.sqlite',
    });
    expect(resolveStoreTarget('audit', { ...base, own: 'sqlite:///abs/audit.sqlite' })).toEqual({ dialect: 'sqlite', file: '/abs/audit.sqlite' });
  });

  it('puts the stores’ files in a folder named by a SQLite DATABASE_URL', () => {
    expect(resolveStoreTarget('inventory', { ...base, shared: 'sqlite:/data/evs' })).toEqual({ dialect: 'sqlite', file: '/data/evs/inventory.sqlite' });
  });

  it.each([
    [{ shared: 'mysql://u@db/evs' }, /DATABASE_URL: unsupported scheme "mysql:"/],
    [{ own: 'redis://x' }, /READ_MODEL_DATABASE_URL: unsupported scheme/],
    [{ own: 'sqlite:' }, /READ_MODEL_DATABASE_URL: a SQLite URL needs a file/],
    [{ shared: 'postgres://db.internal' }, /DATABASE_URL: a PostgreSQL URL needs a database name/],
    [{ shared: 'postgres:///evs' }, /DATABASE_URL: a PostgreSQL URL needs a host/],
    [{ shared: 'just-a-path' }, /DATABASE_URL: unsupported scheme/],
  ])('refuses %o, naming the variable', (settings, message) => {
    expect(() => resolveStoreTarget('readModel', { ...base, ...settings })).toThrow(DatabaseUrlError);
    expect(() => resolveStoreTarget('readModel', { ...base, ...settings })).toThrow(message);
  });
});

describe('describeTarget', () => {
  it('never shows a password', () => {
    const text = describeTarget({ dialect: 'postgres', url: 'postgres://evs:hunter2@db:5432/evs', schema: 'billing' });
    expect(text).toBe('PostgreSQL postgres://evs:***@db:5432/evs (schema billing)');
    expect(text).not.toContain('hunter2');
  });
});
