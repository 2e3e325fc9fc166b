import * as crypto from 'node:crypto';
import { readIfExists, writeFileOnce } from './key-files';

/**
 * A random secret kept in a file: created (mode 0600, folders included) by
 * whichever process needs it first, read by every later one. A file of the
 * wrong size is refused, never replaced: another process may rely on it.
 */
export function loadOrCreateRandomSecret(file: string, bytes: number, label: string): Buffer {
  const existing = readIfExists(file);
  if (existing === null) writeFileOnce(file, crypto.randomBytes(bytes), 0o600);
  const secret = existing ?? readIfExists(file);
  if (secret === null || secret.length !== bytes) {
    throw new Error(`${label} file ${file} must hold exactly ${bytes} bytes`);
  }
  return secret;
}
