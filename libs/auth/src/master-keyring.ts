/**
 * The master keys that seal access keys' secrets (access-key-store.ts), and
 * the files they live in:
 *
 *   ACCESS_KEY_MASTER_KEY_FILE      the current key: seals new secrets, and opens
 *   ACCESS_KEY_MASTER_KEYRING_DIR   more keys that only open: retired keys some
 *                                   rows may still be sealed under, and the next
 *                                   key, handed to every host before it becomes
 *                                   current (docs/deployment.md, "Rotating the
 *                                   master key")
 *
 * Every regular file in the keyring folder is a key of 32 bytes, whatever its
 * name (this code names them `<key id>.key`), except dotfiles and the `.tmp`
 * files it writes on the way. A file of another size stops the process: a
 * key silently skipped would surface later as rows that do not decrypt.
 *
 * A key's id is the first 16 hex digits of the SHA-256 of its bytes, so no
 * file has to say it and an operator can check one with
 * `sha256sum <file> | cut -c1-16`. It names the key without weakening it:
 * 64 bits of a hash of 256 random bits.
 *
 * Keys are read once, when a process opens the store: a gateway learns of a
 * key added to its folder when it restarts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readIfExists } from './key-files';

export const MASTER_KEY_BYTES = 32;
const KEY_ID_HEX_DIGITS = 16;
const KEY_FILE_MODE = 0o600;

/** Where one process finds its master keys (config.auth's two settings). */
export interface MasterKeyFiles {
  currentFile: string;
  keyringDir: string;
}

export function masterKeyId(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_HEX_DIGITS);
}

export function isMasterKeyId(value: string): boolean {
  return new RegExp(`^[0-9a-f]{${KEY_ID_HEX_DIGITS}}$`).test(value);
}

/** The current key and the keys that only open, by id; a key given twice counts once. */
export class MasterKeyring {
  readonly currentId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, others: readonly Buffer[] = []) {
    for (const key of [current, ...others]) {
      if (key.length !== MASTER_KEY_BYTES) throw new Error(`a master key must be ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
    }
    this.currentId = masterKeyId(current);
    this.keys.set(this.currentId, current);
    const rest = others.map((key): [string, Buffer] => [masterKeyId(key), key]).sort(([a], [b]) => a.localeCompare(b));
    for (const [id, key] of rest) if (!this.keys.has(id)) this.keys.set(id, key);
  }

  get current(): Buffer {
    return this.keys.get(this.currentId) as Buffer;
  }

  key(id: string): Buffer | undefined {
    return this.keys.get(id);
  }

  /** Every key's id, the current one first. */
  get ids(): string[] {
    return [...this.keys.keys()];
  }

  /** The current key first, then the others: the order to try them on a row that names none. */
  entries(): [string, Buffer][] {
    return [...this.keys.entries()];
  }

  /** For logs and errors: ids only, never key bytes. */
  describe(): string {
    const others = this.ids.slice(1);
    return `current ${this.currentId}${others.length > 0 ? `; also ${others.join(', ')}` : ''}`;
  }
}

/** A key file found in the keyring folder. */
export interface KeyringFile {
  id: string;
  file: string;
}

function isKeyFileName(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp');
}

function readKeyFile(file: string, label: string): Buffer {
  const key = readIfExists(file);
  if (key === null) throw new Error(`${label} file ${file} does not exist`);
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`${label} file ${file} must hold exactly ${MASTER_KEY_BYTES} bytes`);
  return key;
}

/** The keyring folder's keys with their files; none when the folder does not exist. */
export function listKeyringFiles(keyringDir: string): (KeyringFile & { key: Buffer })[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(keyringDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && isKeyFileName(e.name))
    .map((e) => path.join(keyringDir, e.name))
    .sort()
    .map((file) => {
      const key = readKeyFile(file, 'Access-key master keyring');
      return { id: masterKeyId(key), file, key };
    });
}

/** Reads the current key (which must exist) and the keyring folder. */
export function loadMasterKeyring(files: MasterKeyFiles): MasterKeyring {
  const current = readKeyFile(files.currentFile, 'Access-key master key');
  return new MasterKeyring(current, listKeyringFiles(files.keyringDir).map((f) => f.key));
}

/** Writes, flushes to disk and closes; the file must not exist. */
function writeDurably(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'wx', KEY_FILE_MODE);
  try {
    fs.writeSync(fd, data);
    fs.fchmodSync(fd, KEY_FILE_MODE);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** So a rename or link into the folder survives a power cut too. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function tempNameFor(file: string): string {
  return `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Puts `key` into the keyring folder as `<id>.key` (0600; the folder 0700),
 * unless a file there already holds it. Written under a temporary name and
 * linked into place, so a process reading the folder meanwhile never sees
 * half a key under a key's name.
 */
export function addToKeyring(keyringDir: string, key: Buffer): KeyringFile {
  const id = masterKeyId(key);
  const existing = listKeyringFiles(keyringDir).find((f) => f.id === id);
  if (existing) return { id, file: existing.file };
  fs.mkdirSync(keyringDir, { recursive: true, mode: 0o700 });
  const file = path.join(keyringDir, `${id}.key`);
  const temp = tempNameFor(file);
  writeDurably(temp, key);
  try {
    // link, not rename: it refuses to replace a file someone else put there.
    fs.linkSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  syncDir(keyringDir);
  return { id, file };
}

/** A new random key in the keyring folder: it opens nothing yet and seals nothing until made current. */
export function generateMasterKey(files: MasterKeyFiles): KeyringFile {
  return addToKeyring(files.keyringDir, crypto.randomBytes(MASTER_KEY_BYTES));
}

export interface Promotion {
  previousId: string;
  currentId: string;
  /** Where the previous key now lives; null when `keyId` was current already. */
  retiredFile: string | null;
}

/**
 * Makes keyring key `keyId` the current key and keeps the previous current
 * key in the keyring folder. The order keeps every key on disk at every
 * moment (the previous key is in the folder before the current file is
 * replaced; the new key leaves the folder only once it is the current
 * file), so a crash anywhere is finished by running this again, which
 * changes nothing more once `keyId` is current. The database is not touched: re-sealing
 * is the store's (AccessKeyStore.resealAll).
 */
export function promoteMasterKey(files: MasterKeyFiles, keyId: string): Promotion {
  const ring = loadMasterKeyring(files);
  // Its copy in the folder goes once it is the current file (also when a run stopped just before).
  const dropFolderCopies = () => {
    for (const f of listKeyringFiles(files.keyringDir)) if (f.id === keyId) fs.rmSync(f.file);
  };
  if (ring.currentId === keyId) {
    dropFolderCopies();
    return { previousId: keyId, currentId: keyId, retiredFile: null };
  }
  const next = ring.key(keyId);
  if (next === undefined) {
    throw new Error(`no master key ${keyId} in ${files.keyringDir} (keyring: ${ring.describe()}); make one with new-master-key`);
  }
  const retired = addToKeyring(files.keyringDir, ring.current);
  // Replaced by rename: a process opening the file meanwhile reads the old key or the new, never a mix.
  const temp = tempNameFor(files.currentFile);
  writeDurably(temp, next);
  try {
    fs.renameSync(temp, files.currentFile);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  syncDir(path.dirname(files.currentFile));
  dropFolderCopies();
  return { previousId: ring.currentId, currentId: keyId, retiredFile: retired.file };
}
