import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateAuthKey, hashAuthKey, loadOrCreateSecret } from './auth-key';

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
