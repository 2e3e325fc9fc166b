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

/** What an idempotent create's transfer is called and opened with; both follow from (project, key). */
export interface IdempotentCreateIds {
  transferId: string;
  authKey: string;
}

/**
 * The transfer id and auth key of a create sent with an Idempotency-Key,
 * derived from the project, the key and the server secret, so a retried
 * create reaches the same workflow and is answered with the same auth key
 * that was never stored anywhere. Each is an HMAC-SHA256 under the secret
 * with its own label: without the secret neither can be computed from the
 * idempotency key, and one says nothing about the other. NUL separates the
 * parts because neither a project id nor a key (printable ASCII) holds one,
 * so no two (project, key) pairs share an input.
 *
 * The id is laid out as an RFC 9562 version-8 UUID (the version for
 * custom, here keyed, derivations; v5 would promise SHA-1 of a namespace),
 * which every client that reads a transfer id as a UUID takes as one.
 */
export function idempotentCreateIds(secret: Buffer, projectId: string, idempotencyKey: string): IdempotentCreateIds {
  const derive = (label: string) =>
    crypto.createHmac('sha256', secret).update(`evs/idempotent-create/${label}\0${projectId}\0${idempotencyKey}`, 'utf8').digest();
  const id = derive('transfer-id').subarray(0, 16);
  id[6] = (id[6] & 0x0f) | 0x80;
  id[8] = (id[8] & 0x3f) | 0x80;
  const hex = id.toString('hex');
  return {
    transferId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    authKey: derive('auth-key').subarray(0, 8).toString('hex'),
  };
}
