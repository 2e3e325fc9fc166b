import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateAuthKey, hashAuthKey, idempotentCreateIds, loadOrCreateSecret } from './auth-key';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-key-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('generateAuthKey', () => {
  it('is 16 lowercase hex characters and does not repeat', () => {
    const keys = new Set(Array.from({ length: 200 }, generateAuthKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('hashAuthKey', () => {
  const secret = Buffer.alloc(32, 7);
  const id = '0b6c1a8e-0c2c-4a55-9d9e-3f1c7a8f2b10';

  it('is the hex HMAC-SHA256 of "<transfer id>:<key>" under the secret', () => {
    const expected = crypto.createHmac('sha256', secret).update(`${id}:9266c59563c84664`).digest('hex');
    expect(hashAuthKey(secret, id, '9266c59563c84664')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs per transfer, per key and per secret', () => {
    const h = hashAuthKey(secret, id, 'k');
    expect(hashAuthKey(secret, id.replace('0b6c', '0b6d'), 'k')).not.toBe(h);
    expect(hashAuthKey(secret, id, 'K')).not.toBe(h);
    expect(hashAuthKey(Buffer.alloc(32, 8), id, 'k')).not.toBe(h);
  });
});

describe('loadOrCreateSecret', () => {
  it('creates 32 random bytes with mode 0600, folders included, then reads the same bytes back', () => {
    const file = path.join(dir, 'a', 'b', 'secret');
    const first = loadOrCreateSecret(file);
    expect(first).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(file).equals(first)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['secret']);
  });

  it('refuses a file of the wrong size rather than replacing it', () => {
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, 'short');
    expect(() => loadOrCreateSecret(file)).toThrow(/exactly 32 bytes/);
    expect(fs.readFileSync(file, 'utf8')).toBe('short');
  });
});

describe('idempotentCreateIds', () => {
  const secret = Buffer.alloc(32, 7);

  it('gives the same transfer id and auth key for the same project and key, every time', () => {
    const first = idempotentCreateIds(secret, 'project-a', 'order-4711');
    expect(idempotentCreateIds(secret, 'project-a', 'order-4711')).toEqual(first);
  });

  it('makes the id a version-8 (custom) UUID and the key 16 lowercase hex characters, as random ones look', () => {
    const { transferId, authKey } = idempotentCreateIds(secret, 'project-a', 'k');
    expect(transferId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(authKey).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is an HMAC-SHA256 under the secret, with a label of its own for the id and for the key', () => {
    const mac = (label: string) =>
      crypto.createHmac('sha256', secret).update(`evs/idempotent-create/${label}\0project-a\0k`).digest('hex');
    const { transferId, authKey } = idempotentCreateIds(secret, 'project-a', 'k');
    expect(authKey).toBe(mac('auth-key').slice(0, 16));
    // All but the version and variant bits are the id label's MAC.
    const idHex = transferId.replaceAll('-', '');
    const expected = mac('transfer-id').slice(0, 32);
    expect(idHex.slice(0, 12)).toBe(expected.slice(0, 12));
    expect(idHex.slice(13, 16)).toBe(expected.slice(13, 16));
    expect(idHex.slice(17)).toBe(expected.slice(17));
  });

  it('differs per project, per key and per secret, and the parts cannot be shifted into one another', () => {
    const base = idempotentCreateIds(secret, 'project-a', 'k1');
    const others = [
      idempotentCreateIds(secret, 'project-b', 'k1'),
      idempotentCreateIds(secret, 'project-a', 'k2'),
      idempotentCreateIds(Buffer.alloc(32, 8), 'project-a', 'k1'),
      idempotentCreateIds(secret, 'project-ak', '1'),
    ];
    for (const other of others) {
      expect(other.transferId).not.toBe(base.transferId);
      expect(other.authKey).not.toBe(base.authKey);
    }
  });
});
