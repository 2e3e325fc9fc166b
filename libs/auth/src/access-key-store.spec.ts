/**
 * The access-key store's pure core: how a new key's fields are checked and
 * how a secret is sealed. The store itself, on SQLite and PostgreSQL, is
 * tested in test/stores/access-key-store.test.ts.
 */
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealSecret, unsealSecret, validateNewAccessKey } from './access-key-store';

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
