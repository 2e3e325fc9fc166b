/**
 * Transfer auth keys. The plaintext key is shown once, in the create
 * response; everything else (workflow input, history, read model) holds only
 * hashAuthKey(...), which the workflow compares in constant time.
 */
import * as crypto from 'node:crypto';
import { loadOrCreateRandomKey } from './key-files';

const SECRET_BYTES = 32;

/** 16 lowercase hex characters (64 bits) from the system's cryptographic source, as Cinder issues them. */
export function generateAuthKey(): string {
  return crypto.randomBytes(8).toString('hex');
}

/**
 * Hex HMAC-SHA256 of `${transferId}:${authKey}`, keyed with the server secret.
 * The transfer id salts it (equal keys of two transfers hash apart); the
 * secret means a leaked workflow history alone cannot be brute-forced
 * offline over the 64-bit key space.
 */
export function hashAuthKey(secret: Buffer, transferId: string, authKey: string): string {
  return crypto.createHmac('sha256', secret).update(`${transferId}:${authKey}`, 'utf8').digest('hex');
}

/**
 * The server secret that keys the auth-key hashes: 32 random bytes, created
 * on first start and read on every later one. Losing it makes every pending
 * transfer's key unverifiable.
 */
export function loadOrCreateSecret(file: string): Buffer {
  return loadOrCreateRandomKey(file, SECRET_BYTES, 'Auth-key secret');
}
