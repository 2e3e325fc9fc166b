/**
 * The access-key store's pure core: how a new key's fields are checked, how
 * a secret is sealed, and which key of a keyring opens it. The store itself,
 * on SQLite and PostgreSQL, is tested in test/stores/access-key-store.test.ts.
 */
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealSecret, SecretUnreadableError, unsealSecret, unsealWithKeyring, validateNewAccessKey } from './access-key-store';
import { MasterKeyring, masterKeyId } from './master-keyring';

const MASTER_KEY = crypto.randomBytes(32);
const SECRET = 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6kL9n';

describe('validateNewAccessKey', () => {
  it('gives the role member and an empty description when none are named', () => {
    expect(validateNewAccessKey({ projectId: 'p-1', userId: 'alice' })).toEqual({
      projectId: 'p-1',
      userId: 'alice',
      roles: ['member'],
      description: '',
    });
  });

  it.each([
    [{ projectId: 'bad project', userId: 'u' }, /project/],
    [{ projectId: 'p', userId: '' }, /user/],
    [{ projectId: 'p', userId: 'u', roles: [''] }, /roles/],
    [{ projectId: 'p', userId: 'u', description: 'x'.repeat(256) }, /description/],
  ])('refuses bad input %#', (input, message) => {
    expect(() => validateNewAccessKey(input)).toThrow(message);
  });
});

describe('sealing a secret', () => {
  it('opens again under the same master key and access key id', () => {
    expect(unsealSecret(MASTER_KEY, 'AK1', sealSecret(MASTER_KEY, 'AK1', SECRET))).toBe(SECRET);
  });

  it('leaves no trace of the secret in what is stored, and never seals it the same way twice', () => {
    const first = sealSecret(MASTER_KEY, 'AK1', SECRET);
    const stored = Buffer.concat([first.nonce, first.ciphertext, first.tag]);
    expect(stored.includes(Buffer.from(SECRET))).toBe(false);
    expect(stored.includes(Buffer.from(SECRET.slice(0, 20)))).toBe(false);
    expect(sealSecret(MASTER_KEY, 'AK1', SECRET).ciphertext.equals(first.ciphertext)).toBe(false);
  });

  it('does not open under another master key, for another access key id, or altered', () => {
    const sealed = sealSecret(MASTER_KEY, 'AK1', SECRET);
    expect(() => unsealSecret(Buffer.alloc(32, 1), 'AK1', sealed)).toThrow(/AK1 does not decrypt/);
    expect(() => unsealSecret(MASTER_KEY, 'AK2', sealed)).toThrow(/AK2 does not decrypt/);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] ^= 1;
    expect(() => unsealSecret(MASTER_KEY, 'AK1', { ...sealed, ciphertext: flipped })).toThrow(/does not decrypt/);
  });
});

describe('unsealWithKeyring', () => {
  const current = Buffer.alloc(32, 1);
  const retired = Buffer.alloc(32, 2);
  const ring = new MasterKeyring(current, [retired]);

  it('opens a row under the key it records', () => {
    const sealed = sealSecret(retired, 'AK1', SECRET);
    expect(unsealWithKeyring(ring, 'AK1', masterKeyId(retired), sealed)).toEqual({ secretKey: SECRET, masterKeyId: masterKeyId(retired) });
  });

  it('opens a row that records no key (sealed before ids were kept) under whichever key of the ring it was sealed with', () => {
    for (const key of [current, retired]) {
      expect(unsealWithKeyring(ring, 'AK1', null, sealSecret(key, 'AK1', SECRET))).toEqual({ secretKey: SECRET, masterKeyId: masterKeyId(key) });
    }
  });

  it('names the missing key when the ring lacks the one a row records', () => {
    const gone = Buffer.alloc(32, 3);
    const attempt = () => unsealWithKeyring(ring, 'AK1', masterKeyId(gone), sealSecret(gone, 'AK1', SECRET));
    expect(attempt).toThrow(SecretUnreadableError);
    expect(attempt).toThrow(`sealed under master key ${masterKeyId(gone)}, which this keyring (${ring.describe()}) lacks`);
  });

  it('trusts only the key a row records, and refuses a row no key of the ring opens', () => {
    // Recorded under the current key but sealed under the retired one: an altered row, not a fallback.
    expect(() => unsealWithKeyring(ring, 'AK1', masterKeyId(current), sealSecret(retired, 'AK1', SECRET))).toThrow(/AK1 does not decrypt under master key/);
    expect(() => unsealWithKeyring(ring, 'AK1', null, sealSecret(Buffer.alloc(32, 3), 'AK1', SECRET))).toThrow(/does not decrypt under any master key/);
  });
});
