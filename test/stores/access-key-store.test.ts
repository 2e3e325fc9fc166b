/**
 * The access-key store on a SQLite file and on PostgreSQL: what the gateway
 * and the access-keys command rely on (secrets sealed at rest, revocation
 * seen by every handle at once, the master key guarded), and taking over a
 * file written by the SQLite-only release.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_KEY_MIGRATIONS, AccessKeyStore, type AccessKeyStoreOptions, sealSecret } from '../../libs/auth/src/access-key-store';
import { StoreDatabase } from '../../libs/database/src/store-database';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

describe.each(DIALECTS)('AccessKeyStore on %s', (dialect) => {
  let place: DisposableTarget;
  let dir: string;
  let options: AccessKeyStoreOptions;
  let stores: AccessKeyStore[];

  async function openStore(overrides: Partial<AccessKeyStoreOptions> = {}): Promise<AccessKeyStore> {
    const store = await AccessKeyStore.open(place.target, { ...options, ...overrides });
    stores.push(store);
    return store;
  }

  /** The database itself, past the store: to read what it holds or alter it as an intruder could. */
  async function onDatabase<T>(work: (db: Kysely<any>) => Promise<T>): Promise<T> {
    const raw = await StoreDatabase.open<any>({ store: 'accessKeys', target: place.target, migrations: ACCESS_KEY_MIGRATIONS });
    try {
      return await work(raw.db);
    } finally {
      await raw.close();
    }
  }

  /** Every byte the database holds for the keys: each stored value, and on SQLite the file and its write-ahead log. */
  async function storedBytes(): Promise<Buffer> {
    const rows = await onDatabase((db) => db.selectFrom('access_keys').selectAll().execute());
    const values = rows.flatMap((row) => Object.values(row)).filter((v) => v !== null);
    const parts = values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')));
    if (place.target.dialect === 'sqlite') {
      const file = place.target.file;
      parts.push(...[file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    }
    return Buffer.concat(parts);
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'accessKeys');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-keys-'));
    options = { masterKeyFile: path.join(dir, 'keys', 'master') };
    stores = [];
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await place.dispose();
  });

  it('creates a 20-character access key and a 40-character secret, shown once, and finds the key by id', async () => {
    const store = await openStore();
    const { record, secretKey } = await store.create(
      { projectId: 'p-1', userId: 'alice', roles: ['member', 'reader'], description: 'ci' },
      Date.UTC(2026, 10, 28),
    );
    expect(record).toEqual({
      accessKeyId: expect.stringMatching(/^[A-Z0-9]{20}$/),
      projectId: 'p-1',
      userId: 'alice',
      roles: ['member', 'reader'],
      description: 'ci',
      createdAt: '2026-11-28T00:00:00.000Z',
      revokedAt: null,
    });
    expect(secretKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await store.findActive(record.accessKeyId)).toEqual({
      secretKey,
      principal: { userId: 'alice', projectId: 'p-1', roles: ['member', 'reader'] },
    });
    expect(await store.findActive('NOSUCHKEY00000000000')).toBeNull();
  });

  it('gives the role member when none are named, and refuses bad input before writing', async () => {
    const store = await openStore();
    const { record } = await store.create({ projectId: 'p-1', userId: 'alice' });
    expect(record.roles).toEqual(['member']);
    expect(record.description).toBe('');
    await expect(store.create({ projectId: 'bad project', userId: 'u' })).rejects.toThrow(/project/);
    expect(await store.list('bad project')).toEqual([]);
  });

  it('never repeats a key or a secret, also when two handles create at once', async () => {
    const [a, b] = [await openStore(), await openStore()];
    const made = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).create({ projectId: 'p-1', userId: 'u' })));
    expect(new Set(made.map((m) => m.record.accessKeyId)).size).toBe(50);
    expect(new Set(made.map((m) => m.secretKey)).size).toBe(50);
    expect(await a.list('p-1')).toHaveLength(50);
  });

  it('keeps the secret encrypted at rest: its bytes appear nowhere in the database', async () => {
    const store = await openStore();
    const { record, secretKey } = await store.create({ projectId: 'p-1', userId: 'alice' });
    await store.close();
    const bytes = await storedBytes();
    expect(bytes.includes(Buffer.from(record.accessKeyId))).toBe(true); // the bytes are readable, so the check means something
    expect(bytes.includes(Buffer.from(secretKey))).toBe(false);
    expect(bytes.includes(Buffer.from(secretKey.slice(0, 20)))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(secretKey, 'utf8').toString('base64').slice(0, 20)))).toBe(false);
    expect((await (await openStore()).findActive(record.accessKeyId))?.secretKey).toBe(secretKey);
  });

  it('creates the master key 0600 on first use', async () => {
    await openStore();
    expect(fs.statSync(options.masterKeyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(options.masterKeyFile).size).toBe(32);
  });

  it.runIf(dialect === 'sqlite')('creates the database file 0600, and its write-ahead log with it', async () => {
    const store = await openStore();
    await store.create({ projectId: 'p-1', userId: 'alice' });
    const file = (place.target as { file: string }).file;
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
  });

  it('cannot decrypt a secret under another master key, or moved onto another key’s row', async () => {
    const store = await openStore();
    const a = await store.create({ projectId: 'p-1', userId: 'a' });
    const b = await store.create({ projectId: 'p-1', userId: 'b' });
    await store.close();

    const otherKey = path.join(dir, 'other-master');
    fs.writeFileSync(otherKey, Buffer.alloc(32, 1), { mode: 0o600 });
    await expect((await openStore({ masterKeyFile: otherKey })).findActive(a.record.accessKeyId)).rejects.toThrow(/does not decrypt/);

    await onDatabase((db) =>
      sql`UPDATE access_keys SET (secret_nonce, secret_ciphertext, secret_tag) =
            (SELECT secret_nonce, secret_ciphertext, secret_tag FROM access_keys WHERE access_key_id = ${a.record.accessKeyId})
          WHERE access_key_id = ${b.record.accessKeyId}`.execute(db),
    );
    await expect((await openStore()).findActive(b.record.accessKeyId)).rejects.toThrow(/does not decrypt/);
  });

  it('refuses to start over with a new master key when stored keys depend on the lost one', async () => {
    await (await openStore()).create({ projectId: 'p-1', userId: 'a' });
    for (const store of stores.splice(0)) await store.close();
    fs.rmSync(options.masterKeyFile);
    await expect(openStore()).rejects.toThrow(/master key file .* is missing but .* holds 1 keys/);
    expect(fs.existsSync(options.masterKeyFile)).toBe(false);
  });

  it('revokes a key for every later lookup, also in another process’s handle, keeping the first revocation time', async () => {
    const gateway = await openStore();
    const cli = await openStore();
    const { record } = await cli.create({ projectId: 'p-1', userId: 'alice' });
    expect(await gateway.findActive(record.accessKeyId)).not.toBeNull();

    expect((await cli.revoke(record.accessKeyId, Date.UTC(2026, 10, 28, 12)))?.revokedAt).toBe('2026-11-28T12:00:00.000Z');
    expect(await gateway.findActive(record.accessKeyId)).toBeNull();
    expect((await cli.revoke(record.accessKeyId, Date.UTC(2026, 10, 29)))?.revokedAt).toBe('2026-11-28T12:00:00.000Z');
    expect(await cli.revoke('NOSUCHKEY00000000000')).toBeNull();
  });

  it('keeps one revocation time when two handles revoke at once', async () => {
    const [a, b] = [await openStore(), await openStore()];
    const { record } = await a.create({ projectId: 'p-1', userId: 'alice' });
    const times = Array.from({ length: 10 }, (_, i) => Date.UTC(2026, 10, 28, i));
    const answers = await Promise.all(times.map((t, i) => (i % 2 === 0 ? a : b).revoke(record.accessKeyId, t)));
    const kept = (await a.list('p-1'))[0]?.revokedAt;
    expect(times.map((t) => new Date(t).toISOString())).toContain(kept);
    expect(answers.map((r) => r?.revokedAt)).toEqual(times.map(() => kept));
  });

  it('lists a project’s keys, revoked ones marked, oldest first, without secrets', async () => {
    const store = await openStore();
    const first = await store.create({ projectId: 'p-1', userId: 'a' }, Date.UTC(2026, 0, 1));
    const second = await store.create({ projectId: 'p-1', userId: 'b' }, Date.UTC(2026, 0, 2));
    await store.create({ projectId: 'p-2', userId: 'c' });
    await store.revoke(first.record.accessKeyId, Date.UTC(2026, 0, 3));
    const listed = await store.list('p-1');
    expect(listed.map((k) => [k.accessKeyId, k.revokedAt])).toEqual([
      [first.record.accessKeyId, '2026-01-03T00:00:00.000Z'],
      [second.record.accessKeyId, null],
    ]);
    expect(JSON.stringify(listed)).not.toContain(first.secretKey);
    expect(JSON.stringify(listed)).not.toContain(second.secretKey);
  });

  it('opens at once from two replicas, each finding the schema ready', async () => {
    const [a, b] = await Promise.all([openStore(), openStore()]);
    const { record, secretKey } = await a.create({ projectId: 'p-1', userId: 'alice' });
    expect((await b.findActive(record.accessKeyId))?.secretKey).toBe(secretKey);
  });

  it('closes twice without complaint, as a shutdown hook and a finally may', async () => {
    const store = await openStore();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it.runIf(dialect === 'sqlite')('takes over a file written by the SQLite-only release, and leaves it readable by that release', async () => {
    const file = (place.target as { file: string }).file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const masterKey = Buffer.alloc(32, 7);
    fs.mkdirSync(path.dirname(options.masterKeyFile), { recursive: true });
    fs.writeFileSync(options.masterKeyFile, masterKey, { mode: 0o600 });
    // That release's schema and bookkeeping, as it left them.
    const old = new Database(file);
    old.exec(`
      CREATE TABLE access_keys (
        access_key_id     TEXT PRIMARY KEY,
        project_id        TEXT NOT NULL,
        user_id           TEXT NOT NULL,
        roles             TEXT NOT NULL,
        description       TEXT NOT NULL,
        secret_nonce      BLOB NOT NULL,
        secret_ciphertext BLOB NOT NULL,
        secret_tag        BLOB NOT NULL,
        created_at        TEXT NOT NULL,
        revoked_at        TEXT
      ) STRICT;
      CREATE INDEX access_keys_by_project ON access_keys (project_id, created_at, access_key_id);
      PRAGMA user_version = 1;`);
    const sealed = sealSecret(masterKey, 'OLDKEY00000000000001', 'oldSecret');
    old
      .prepare('INSERT INTO access_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)')
      .run('OLDKEY00000000000001', 'p-1', 'alice', '["member"]', 'old', sealed.nonce, sealed.ciphertext, sealed.tag, '2025-01-01T00:00:00.000Z');
    old.close();

    const store = await openStore();
    expect(await store.findActive('OLDKEY00000000000001')).toEqual({
      secretKey: 'oldSecret',
      principal: { userId: 'alice', projectId: 'p-1', roles: ['member'] },
    });
    await store.create({ projectId: 'p-1', userId: 'bob' });
    expect((await store.list('p-1')).map((k) => k.userId)).toEqual(['alice', 'bob']);
    await store.close();

    const reopened = new Database(file, { readonly: true });
    try {
      expect(reopened.pragma('user_version', { simple: true })).toBe(1);
      expect((reopened.prepare("SELECT sql FROM sqlite_master WHERE name = 'access_keys'").get() as { sql: string }).sql).toMatch(/STRICT/);
    } finally {
      reopened.close();
    }
  });

  it.runIf(dialect === 'sqlite')('marks a file it creates with the SQLite-only release’s schema version, and keeps it STRICT', async () => {
    await (await openStore()).close();
    const reopened = new Database((place.target as { file: string }).file, { readonly: true });
    try {
      expect(reopened.pragma('user_version', { simple: true })).toBe(1);
      expect((reopened.prepare("SELECT sql FROM sqlite_master WHERE name = 'access_keys'").get() as { sql: string }).sql).toMatch(/strict/i);
    } finally {
      reopened.close();
    }
  });
});
