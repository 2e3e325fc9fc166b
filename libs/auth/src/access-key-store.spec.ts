import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessKeyStore, type AccessKeySettings } from './access-key-store';

let dir: string;
let settings: AccessKeySettings;
const open: AccessKeyStore[] = [];

function openStore(overrides: Partial<AccessKeySettings> = {}): AccessKeyStore {
  const store = AccessKeyStore.open({ ...settings, ...overrides });
  open.push(store);
  return store;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-keys-'));
  settings = { accessKeyDbPath: path.join(dir, 'access-keys.sqlite'), accessKeyMasterKeyFile: path.join(dir, 'keys', 'master') };
});
afterEach(() => {
  for (const store of open.splice(0)) store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every byte SQLite holds for the database: the file and its write-ahead log. */
function databaseBytes(): Buffer {
  const files = [settings.accessKeyDbPath, `${settings.accessKeyDbPath}-wal`].filter((f) => fs.existsSync(f));
  return Buffer.concat(files.map((f) => fs.readFileSync(f)));
}

describe('AccessKeyStore', () => {
  it('creates a 20-character access key and a 40-character secret, shown once, and finds the key by id', () => {
    const store = openStore();
    const { record, secretKey } = store.create({ projectId: 'p-1', userId: 'alice', roles: ['member', 'reader'], description: 'ci' }, Date.UTC(2026, 10, 28));
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
    expect(store.findActive(record.accessKeyId)).toEqual({
      secretKey,
      principal: { userId: 'alice', projectId: 'p-1', roles: ['member', 'reader'] },
    });
    expect(store.findActive('NOSUCHKEY00000000000')).toBeNull();
  });

  it('gives the role member when none are named', () => {
    const { record } = openStore().create({ projectId: 'p-1', userId: 'alice' });
    expect(record.roles).toEqual(['member']);
    expect(record.description).toBe('');
  });

  it('never repeats a key or a secret', () => {
    const store = openStore();
    const made = Array.from({ length: 50 }, () => store.create({ projectId: 'p-1', userId: 'u' }));
    expect(new Set(made.map((m) => m.record.accessKeyId)).size).toBe(50);
    expect(new Set(made.map((m) => m.secretKey)).size).toBe(50);
  });

  it('keeps the secret encrypted at rest: its bytes appear nowhere in the database', () => {
    const store = openStore();
    const { record, secretKey } = store.create({ projectId: 'p-1', userId: 'alice' });
    store.close();
    const bytes = databaseBytes();
    expect(bytes.includes(Buffer.from(record.accessKeyId))).toBe(true); // the file is readable, so the check means something
    expect(bytes.includes(Buffer.from(secretKey))).toBe(false);
    expect(bytes.includes(Buffer.from(secretKey.slice(0, 20)))).toBe(false);
    expect(bytes.includes(Buffer.from(secretKey, 'utf8').toString('base64').slice(0, 20))).toBe(false);
    expect(openStore().findActive(record.accessKeyId)?.secretKey).toBe(secretKey);
  });

  it('creates the master key 0600 on first use and the database file 0600', () => {
    openStore();
    expect(fs.statSync(settings.accessKeyMasterKeyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(settings.accessKeyMasterKeyFile).size).toBe(32);
    expect(fs.statSync(settings.accessKeyDbPath).mode & 0o777).toBe(0o600);
  });

  it('cannot decrypt a secret under another master key, or moved onto another key’s row', () => {
    const store = openStore();
    const a = store.create({ projectId: 'p-1', userId: 'a' });
    const b = store.create({ projectId: 'p-1', userId: 'b' });
    store.close();

    const otherKey = path.join(dir, 'other-master');
    fs.writeFileSync(otherKey, Buffer.alloc(32, 1), { mode: 0o600 });
    expect(() => openStore({ accessKeyMasterKeyFile: otherKey }).findActive(a.record.accessKeyId)).toThrow(/does not decrypt/);

    const db = new Database(settings.accessKeyDbPath);
    db.prepare(
      `UPDATE access_keys SET (secret_nonce, secret_ciphertext, secret_tag) =
         (SELECT secret_nonce, secret_ciphertext, secret_tag FROM access_keys WHERE access_key_id = ?)
       WHERE access_key_id = ?`,
    ).run(a.record.accessKeyId, b.record.accessKeyId);
    db.close();
    expect(() => openStore().findActive(b.record.accessKeyId)).toThrow(/does not decrypt/);
  });

  it('refuses to start over with a new master key when stored keys depend on the lost one', () => {
    openStore().create({ projectId: 'p-1', userId: 'a' });
    for (const store of open.splice(0)) store.close();
    fs.rmSync(settings.accessKeyMasterKeyFile);
    expect(() => openStore()).toThrow(/master key file .* is missing but .* holds 1 keys/);
    expect(fs.existsSync(settings.accessKeyMasterKeyFile)).toBe(false);
  });

  it('revokes a key for every later lookup, also in another process’s handle, keeping the first revocation time', () => {
    const gateway = openStore();
    const cli = openStore();
    const { record } = cli.create({ projectId: 'p-1', userId: 'alice' });
    expect(gateway.findActive(record.accessKeyId)).not.toBeNull();

    expect(cli.revoke(record.accessKeyId, Date.UTC(2026, 10, 28, 12))?.revokedAt).toBe('2026-11-28T12:00:00.000Z');
    expect(gateway.findActive(record.accessKeyId)).toBeNull();
    expect(cli.revoke(record.accessKeyId, Date.UTC(2026, 10, 29))?.revokedAt).toBe('2026-11-28T12:00:00.000Z');
    expect(cli.revoke('NOSUCHKEY00000000000')).toBeNull();
  });

  it('lists a project’s keys, revoked ones marked, oldest first, without secrets', () => {
    const store = openStore();
    const first = store.create({ projectId: 'p-1', userId: 'a' }, Date.UTC(2026, 0, 1));
    const second = store.create({ projectId: 'p-1', userId: 'b' }, Date.UTC(2026, 0, 2));
    store.create({ projectId: 'p-2', userId: 'c' });
    store.revoke(first.record.accessKeyId, Date.UTC(2026, 0, 3));
    const listed = store.list('p-1');
    expect(listed.map((k) => [k.accessKeyId, k.revokedAt])).toEqual([
      [first.record.accessKeyId, '2026-01-03T00:00:00.000Z'],
      [second.record.accessKeyId, null],
    ]);
    expect(JSON.stringify(listed)).not.toContain(first.secretKey);
    expect(JSON.stringify(listed)).not.toContain(second.secretKey);
  });

  it.each([
    [{ projectId: 'bad project', userId: 'u' }, /project/],
    [{ projectId: 'p', userId: '' }, /user/],
    [{ projectId: 'p', userId: 'u', roles: [''] }, /roles/],
    [{ projectId: 'p', userId: 'u', description: 'x'.repeat(256) }, /description/],
  ])('refuses bad input %#', (input, message) => {
    expect(() => openStore().create(input)).toThrow(message);
  });
});
