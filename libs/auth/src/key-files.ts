/**
 * Key material written on first start. Several processes may start at once
 * (gateway, the token CLI, tests), so a file is written under a private
 * temporary name and then linked into place: link fails if the target exists,
 * so exactly one writer wins and every process then reads the winner's file.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes `data` to `file` with `mode` unless the file exists; true if this call created it. */
export function writeFileOnce(file: string, data: string | Buffer, mode: number): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temp, data, { mode, flag: 'wx' });
  try {
    fs.chmodSync(temp, mode);
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

export function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * A file of `bytes` random bytes, created (mode 0600, folders included) on
 * first use and read on every later one. Whatever such a key protects is lost
 * with it, so an existing file is never replaced: one of the wrong size is an
 * error, not something to regenerate.
 */
export function loadOrCreateRandomKey(file: string, bytes: number, label = 'Key'): Buffer {
  if (readIfExists(file) === null) writeFileOnce(file, crypto.randomBytes(bytes), 0o600);
  const key = readIfExists(file);
  if (key === null || key.length !== bytes) {
    throw new Error(`${label} file ${file} must hold exactly ${bytes} bytes`);
  }
  return key;
}
