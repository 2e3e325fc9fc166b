/**
 * The master keys as files: ids, what a keyring folder may hold, and making
 * a key current so that every key stays on disk whatever step is cut short.
 * Rows sealed and re-sealed under these keys are tested in
 * test/stores/access-key-store.test.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addToKeyring,
  generateMasterKey,
  isMasterKeyId,
  listKeyringFiles,
  loadMasterKeyring,
  type MasterKeyFiles,
  MasterKeyring,
  masterKeyId,
  promoteMasterKey,
} from './master-keyring';

const key = (fill: number) => Buffer.alloc(32, fill);

let dir: string;
let files: MasterKeyFiles;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'master-keyring-'));
  files = { currentFile: path.join(dir, 'keys', 'master'), keyringDir: path.join(dir, 'keys', 'master.keyring') };
  fs.mkdirSync(path.dirname(files.currentFile), { recursive: true });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every key on disk, by id: the current file's and the folder's. */
function keysOnDisk(): string[] {
  const current = fs.existsSync(files.currentFile) ? [masterKeyId(fs.readFileSync(files.currentFile))] : [];
  return [...new Set([...current, ...listKeyringFiles(files.keyringDir).map((f) => f.id)])].sort();
}

describe('masterKeyId', () => {
  it('is the first 16 hex digits of the key’s SHA-256, what `sha256sum file | cut -c1-16` prints', () => {
    expect(masterKeyId(Buffer.alloc(32))).toBe('66687aadf862bd77');
    const random = crypto.randomBytes(32);
    expect(masterKeyId(random)).toBe(crypto.createHash('sha256').update(random).digest('hex').slice(0, 16));
    expect(isMasterKeyId(masterKeyId(random))).toBe(true);
    expect(isMasterKeyId('66687AADF862BD77')).toBe(false);
    expect(isMasterKeyId('66687aadf862bd7')).toBe(false);
  });
});

describe('MasterKeyring', () => {
  it('puts the current key first and the others in id order, each once', () => {
    const ring = new MasterKeyring(key(1), [key(3), key(2), key(3), key(1)]);
    const others = [masterKeyId(key(2)), masterKeyId(key(3))].sort();
    expect(ring.currentId).toBe(masterKeyId(key(1)));
    expect(ring.ids).toEqual([masterKeyId(key(1)), ...others]);
    expect(ring.entries().map(([id]) => id)).toEqual(ring.ids);
    expect(ring.current.equals(key(1))).toBe(true);
    expect(ring.key(masterKeyId(key(2)))?.equals(key(2))).toBe(true);
    expect(ring.key('0000000000000000')).toBeUndefined();
  });

  it('describes itself by ids alone', () => {
    const ring = new MasterKeyring(key(1), [key(2)]);
    expect(ring.describe()).toBe(`current ${masterKeyId(key(1))}; also ${masterKeyId(key(2))}`);
    expect(new MasterKeyring(key(1)).describe()).toBe(`current ${masterKeyId(key(1))}`);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new MasterKeyring(Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => new MasterKeyring(key(1), [Buffer.alloc(33)])).toThrow(/32 bytes/);
  });
});

describe('loadMasterKeyring', () => {
  it('reads the current key alone when there is no keyring folder', () => {
    fs.writeFileSync(files.currentFile, key(1));
    expect(loadMasterKeyring(files).ids).toEqual([masterKeyId(key(1))]);
  });

  it('takes every file of the folder as a key, whatever its name, but dotfiles and unfinished .tmp files', () => {
    fs.writeFileSync(files.currentFile, key(1));
    fs.mkdirSync(files.keyringDir);
    fs.writeFileSync(path.join(files.keyringDir, 'copied-from-host-a'), key(2));
    fs.writeFileSync(path.join(files.keyringDir, `${masterKeyId(key(3))}.key`), key(3));
    fs.writeFileSync(path.join(files.keyringDir, '.hidden'), 'not a key');
    fs.writeFileSync(path.join(files.keyringDir, 'x.key.123.abc.tmp'), 'half');
    fs.mkdirSync(path.join(files.keyringDir, 'subfolder'));
    expect(loadMasterKeyring(files).ids.sort()).toEqual([key(1), key(2), key(3)].map(masterKeyId).sort());
  });

  it('refuses a folder file of the wrong size, naming it, rather than skip a key some row may need', () => {
    fs.writeFileSync(files.currentFile, key(1));
    fs.mkdirSync(files.keyringDir);
    fs.writeFileSync(path.join(files.keyringDir, 'truncated.key'), key(2).subarray(0, 31));
    expect(() => loadMasterKeyring(files)).toThrow(/truncated\.key must hold exactly 32 bytes/);
  });

  it('refuses a missing or damaged current key', () => {
    expect(() => loadMasterKeyring(files)).toThrow(/master key file .* does not exist/);
    fs.writeFileSync(files.currentFile, 'short');
    expect(() => loadMasterKeyring(files)).toThrow(/must hold exactly 32 bytes/);
  });
});

describe('generateMasterKey and addToKeyring', () => {
  it('writes a new random key as <id>.key, 0600, in a 0700 folder, and leaves the current key alone', () => {
    fs.writeFileSync(files.currentFile, key(1));
    const made = generateMasterKey(files);
    expect(made.file).toBe(path.join(files.keyringDir, `${made.id}.key`));
    expect(fs.statSync(made.file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.keyringDir).mode & 0o777).toBe(0o700);
    expect(masterKeyId(fs.readFileSync(made.file))).toBe(made.id);
    expect(loadMasterKeyring(files).currentId).toBe(masterKeyId(key(1)));
    expect(generateMasterKey(files).id).not.toBe(made.id);
    expect(fs.readdirSync(files.keyringDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('adds a key once: a key already in the folder under any name is not written again', () => {
    fs.mkdirSync(files.keyringDir);
    fs.writeFileSync(path.join(files.keyringDir, 'old'), key(2));
    expect(addToKeyring(files.keyringDir, key(2))).toEqual({ id: masterKeyId(key(2)), file: path.join(files.keyringDir, 'old') });
    expect(fs.readdirSync(files.keyringDir)).toEqual(['old']);
  });
});

describe('promoteMasterKey', () => {
  it('makes a keyring key current and keeps the previous one in the folder', () => {
    fs.writeFileSync(files.currentFile, key(1));
    const next = addToKeyring(files.keyringDir, key(2));
    expect(promoteMasterKey(files, next.id)).toEqual({
      previousId: masterKeyId(key(1)),
      currentId: next.id,
      retiredFile: path.join(files.keyringDir, `${masterKeyId(key(1))}.key`),
    });
    expect(fs.readFileSync(files.currentFile).equals(key(2))).toBe(true);
    expect(fs.statSync(files.currentFile).mode & 0o777).toBe(0o600);
    expect(listKeyringFiles(files.keyringDir).map((f) => f.id)).toEqual([masterKeyId(key(1))]);
    expect(loadMasterKeyring(files).describe()).toBe(`current ${next.id}; also ${masterKeyId(key(1))}`);
  });

  it('does nothing more when run again', () => {
    fs.writeFileSync(files.currentFile, key(1));
    const next = addToKeyring(files.keyringDir, key(2));
    promoteMasterKey(files, next.id);
    expect(promoteMasterKey(files, next.id)).toEqual({ previousId: next.id, currentId: next.id, retiredFile: null });
    expect(keysOnDisk()).toEqual([key(1), key(2)].map(masterKeyId).sort());
    expect(loadMasterKeyring(files).currentId).toBe(next.id);
  });

  it('finishes a run cut short after any step, losing no key', () => {
    // Cut short after keeping the previous key: the current file is still the old key.
    fs.writeFileSync(files.currentFile, key(1));
    addToKeyring(files.keyringDir, key(1));
    addToKeyring(files.keyringDir, key(2));
    promoteMasterKey(files, masterKeyId(key(2)));
    expect(loadMasterKeyring(files).describe()).toBe(`current ${masterKeyId(key(2))}; also ${masterKeyId(key(1))}`);

    // Cut short after replacing the current file: the new key is still in the folder too.
    addToKeyring(files.keyringDir, key(2));
    expect(promoteMasterKey(files, masterKeyId(key(2))).retiredFile).toBeNull();
    expect(listKeyringFiles(files.keyringDir).map((f) => f.id)).toEqual([masterKeyId(key(1))]);
    expect(keysOnDisk()).toEqual([key(1), key(2)].map(masterKeyId).sort());
  });

  it('refuses a key id the keyring does not hold, changing nothing', () => {
    fs.writeFileSync(files.currentFile, key(1));
    addToKeyring(files.keyringDir, key(2));
    expect(() => promoteMasterKey(files, masterKeyId(key(3)))).toThrow(/no master key [0-9a-f]{16} in .*new-master-key/);
    expect(fs.readFileSync(files.currentFile).equals(key(1))).toBe(true);
    expect(listKeyringFiles(files.keyringDir).map((f) => f.id)).toEqual([masterKeyId(key(2))]);
  });
});
