/**
 * The access-key store on a SQLite file and on PostgreSQL: what the gateway
 * and the access-keys command rely on (secrets sealed at rest, revocation
 * seen by every handle at once, the master key guarded and rotated), and
 * taking over a file written by the SQLite-only release.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCESS_KEY_MIGRATIONS,
  AccessKeyStore,
  type AccessKeyStoreOptions,
  ResealRefusedError,
  sealSecret,
  unsealSecret,
} from '../../libs/auth/src/access-key-store';
import { addToKeyring, generateMasterKey, type MasterKeyFiles, masterKeyId, promoteMasterKey } from '../../libs/auth/src/master-keyring';
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

  const keyFiles = (): MasterKeyFiles => ({ currentFile: options.masterKeyFile, keyringDir: options.masterKeyringDir });
  const currentKey = () => fs.readFileSync(options.masterKeyFile);

  /** Each row's recorded master key id and ciphertext (hex), by access key id. */
  async function sealedRows(): Promise<Record<string, { keyId: string | null; ciphertext: string }>> {
    const rows = await onDatabase((db) =>
      db.selectFrom('access_keys').select(['access_key_id', 'master_key_id', 'secret_ciphertext']).orderBy('access_key_id').execute(),
    );
    return Object.fromEntries(rows.map((r) => [r.access_key_id, { keyId: r.master_key_id, ciphertext: Buffer.from(r.secret_ciphertext).toString('hex') }]));
  }

  /** A row as the releases before key ids wrote it: sealed under `key`, no key id recorded. */
  function legacyRow(accessKeyId: string, key: Buffer, secretKey: string, userId = 'legacy') {
    const sealed = sealSecret(key, accessKeyId, secretKey);
    return {
      access_key_id: accessKeyId,
      project_id: 'p-1',
      user_id: userId,
      roles: '["member"]',
      description: '',
      secret_nonce: sealed.nonce,
      secret_ciphertext: sealed.ciphertext,
      secret_tag: sealed.tag,
      created_at: '2025-01-01T00:00:00.000Z',
    };
  }

  async function insertUnrecorded(accessKeyId: string, key: Buffer, secretKey: string): Promise<void> {
    await onDatabase((db) => db.insertInto('access_keys').values(legacyRow(accessKeyId, key, secretKey)).execute());
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'accessKeys');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-keys-'));
    options = { masterKeyFile: path.join(dir, 'keys', 'master'), masterKeyringDir: path.join(dir, 'keys', 'master.keyring') };
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
    const elsewhere = { masterKeyFile: otherKey, masterKeyringDir: path.join(dir, 'other-keyring') };
    await expect((await openStore(elsewhere)).findActive(a.record.accessKeyId)).rejects.toThrow(/does not decrypt/);

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

  it('records the id of the master key each secret is sealed under', async () => {
    const store = await openStore();
    const { record } = await store.create({ projectId: 'p-1', userId: 'alice' });
    expect(store.keyring.currentId).toBe(masterKeyId(currentKey()));
    expect((await sealedRows())[record.accessKeyId]?.keyId).toBe(store.keyring.currentId);
  });

  it('reads secrets sealed before key ids were recorded, under the current key or a retired one', async () => {
    await (await openStore()).close();
    const retired = crypto.randomBytes(32);
    addToKeyring(options.masterKeyringDir, retired);
    await insertUnrecorded('LEGACYCURRENT0000001', currentKey(), 'secretUnderCurrent');
    await insertUnrecorded('LEGACYRETIRED0000001', retired, 'secretUnderRetired');

    const store = await openStore();
    expect((await store.findActive('LEGACYCURRENT0000001'))?.secretKey).toBe('secretUnderCurrent');
    expect((await store.findActive('LEGACYRETIRED0000001'))?.secretKey).toBe('secretUnderRetired');
    expect(await store.masterKeyUsage()).toEqual({
      rowsByKey: { [masterKeyId(currentKey())]: 1, [masterKeyId(retired)]: 1 },
      unrecorded: 2,
      unrecordedUnreadable: 0,
    });
  });

  it('upgrades a store from before key ids: its rows read as they are, and the key-id step runs again after a rollback removed its record', async () => {
    // The schema and a row as the previous release left them.
    fs.mkdirSync(path.dirname(options.masterKeyFile), { recursive: true });
    fs.writeFileSync(options.masterKeyFile, crypto.randomBytes(32), { mode: 0o600 });
    const old = await StoreDatabase.open<any>({ store: 'accessKeys', target: place.target, migrations: ACCESS_KEY_MIGRATIONS.slice(0, 1) });
    await old.db.insertInto('access_keys').values(legacyRow('BEFOREKEYIDS00000001', currentKey(), 'secretFromBefore', 'alice')).execute();
    await old.close();

    const upgraded = await openStore();
    expect((await upgraded.findActive('BEFOREKEYIDS00000001'))?.secretKey).toBe('secretFromBefore');
    expect((await sealedRows()).BEFOREKEYIDS00000001?.keyId).toBeNull();
    await upgraded.close();

    await onDatabase((db) => db.deleteFrom('access_keys_migrations').where('name', '=', '0002_access_keys_master_key_id').execute());
    expect((await (await openStore()).findActive('BEFOREKEYIDS00000001'))?.secretKey).toBe('secretFromBefore');
  });

  it('rotates: every secret, revoked and unrecorded ones too, re-sealed under the new key in one run; a second run changes nothing', async () => {
    const cli = await openStore();
    const made = await Promise.all([0, 1, 2].map((i) => cli.create({ projectId: 'p-1', userId: `u${i}` })));
    await cli.revoke(made[2].record.accessKeyId);
    await insertUnrecorded('LEGACY00000000000001', currentKey(), 'legacySecret');
    const oldId = cli.keyring.currentId;
    const before = await sealedRows();

    const next = generateMasterKey(keyFiles());
    expect(promoteMasterKey(keyFiles(), next.id)).toMatchObject({ previousId: oldId, currentId: next.id });
    const rotating = await openStore();
    expect(rotating.keyring.describe()).toBe(`current ${next.id}; also ${oldId}`);
    expect(await rotating.resealAll()).toEqual({ masterKeyId: next.id, resealed: 4, alreadyCurrent: 0 });
    const after = await sealedRows();
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const [id, row] of Object.entries(after)) {
      expect(row.keyId).toBe(next.id);
      expect(row.ciphertext).not.toBe(before[id]?.ciphertext);
    }
    expect(await rotating.resealAll()).toEqual({ masterKeyId: next.id, resealed: 0, alreadyCurrent: 4 });
    expect(await sealedRows()).toEqual(after);

    // No row needs the old key now: without it, the new key alone opens every secret.
    fs.rmSync(path.join(options.masterKeyringDir, `${oldId}.key`));
    const newOnly = await openStore();
    expect(newOnly.keyring.ids).toEqual([next.id]);
    for (const { record, secretKey } of made.slice(0, 2)) expect((await newOnly.findActive(record.accessKeyId))?.secretKey).toBe(secretKey);
    expect((await newOnly.findActive('LEGACY00000000000001'))?.secretKey).toBe('legacySecret');
    const revoked = await onDatabase((db) =>
      db.selectFrom('access_keys').selectAll().where('access_key_id', '=', made[2].record.accessKeyId).executeTakeFirstOrThrow(),
    );
    const revokedSealed = { nonce: revoked.secret_nonce, ciphertext: revoked.secret_ciphertext, tag: revoked.secret_tag };
    expect(unsealSecret(currentKey(), made[2].record.accessKeyId, revokedSealed)).toBe(made[2].secretKey);
    expect(await newOnly.masterKeyUsage()).toEqual({ rowsByKey: { [next.id]: 4 }, unrecorded: 0, unrecordedUnreadable: 0 });
  });

  it('refuses to re-seal, changing nothing, when the keyring lacks a key some row needs, and names it', async () => {
    const cli = await openStore();
    const { record } = await cli.create({ projectId: 'p-1', userId: 'alice' });
    const oldId = cli.keyring.currentId;
    const next = generateMasterKey(keyFiles());
    promoteMasterKey(keyFiles(), next.id);
    // The old key deleted too early, and a row under a key no one has.
    fs.rmSync(path.join(options.masterKeyringDir, `${oldId}.key`));
    await insertUnrecorded('LEGACYLOST0000000001', crypto.randomBytes(32), 'lost');
    // A row that alone could be re-sealed: it must stay as it is too.
    await insertUnrecorded('LEGACYREADABLE000001', currentKey(), 'readable');
    const before = await sealedRows();

    const store = await openStore();
    const refused = store.resealAll();
    await expect(refused).rejects.toThrow(ResealRefusedError);
    await expect(refused).rejects.toThrow(`master key ${oldId}, not in the keyring: 1 (${record.accessKeyId})`);
    await expect(refused).rejects.toThrow('master key none recorded: 1 (LEGACYLOST0000000001)');
    await expect(refused).rejects.toThrow(/Nothing was changed/);
    expect(await sealedRows()).toEqual(before);
    await expect(store.findActive(record.accessKeyId)).rejects.toThrow(`sealed under master key ${oldId}, which this keyring (current ${next.id}) lacks`);
    expect(await store.masterKeyUsage()).toEqual({ rowsByKey: { [oldId]: 1, [next.id]: 1 }, unrecorded: 2, unrecordedUnreadable: 1 });
  });

  it('keeps serving through a rotation: a gateway given the next key first reads every row before and after the re-seal', async () => {
    const cli = await openStore();
    const { record, secretKey } = await cli.create({ projectId: 'p-1', userId: 'alice' });
    const oldId = cli.keyring.currentId;
    const next = generateMasterKey(keyFiles());
    // Restarted after the next key reached its folder; the other one never got it.
    const gateway = await openStore();
    const unprepared = await openStore({ masterKeyringDir: path.join(dir, 'keyring-never-copied') });
    expect(gateway.keyring.ids).toEqual([oldId, next.id]);
    expect((await unprepared.findActive(record.accessKeyId))?.secretKey).toBe(secretKey);

    promoteMasterKey(keyFiles(), next.id);
    expect((await (await openStore()).resealAll()).resealed).toBe(1);
    expect((await gateway.findActive(record.accessKeyId))?.secretKey).toBe(secretKey);
    await expect(unprepared.findActive(record.accessKeyId)).rejects.toThrow(
      `sealed under master key ${next.id}, which this keyring (current ${oldId}) lacks`,
    );
  });

  it.runIf(dialect === 'postgres')('re-seals each row once when two rotations run at once (the second waits on the row locks)', async () => {
    const cli = await openStore();
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => cli.create({ projectId: 'p-1', userId: `u${i}` })));
    const next = generateMasterKey(keyFiles());
    promoteMasterKey(keyFiles(), next.id);
    const [a, b] = [await openStore(), await openStore()];
    const outcomes = await Promise.all([a.resealAll(), b.resealAll()]);
    expect(outcomes.map((o) => o.resealed).sort((x, y) => x - y)).toEqual([0, 10]);
    for (const { record, secretKey } of made) expect((await a.findActive(record.accessKeyId))?.secretKey).toBe(secretKey);
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
