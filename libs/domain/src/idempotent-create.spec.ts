import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from './errors';
import { retriedCreationRefusal, sameCreation } from './idempotent-create';

const VOLUME = '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e';

describe('sameCreation', () => {
  it('holds for the same disk and name, a missing name included', () => {
    expect(sameCreation({ volumeId: VOLUME, name: 't1' }, { volumeId: VOLUME, name: 't1' })).toBe(true);
    expect(sameCreation({ volumeId: VOLUME, name: null }, { volumeId: VOLUME, name: null })).toBe(true);
  });

  it('fails for another disk, another name, or a name added or dropped', () => {
    const original = { volumeId: VOLUME, name: 't1' };
    expect(sameCreation(original, { volumeId: VOLUME.replace('5b0e', '5b0f'), name: 't1' })).toBe(false);
    expect(sameCreation(original, { volumeId: VOLUME, name: 't2' })).toBe(false);
    expect(sameCreation(original, { volumeId: VOLUME, name: null })).toBe(false);
    expect(sameCreation({ volumeId: VOLUME, name: null }, original)).toBe(false);
  });
});

describe('retriedCreationRefusal', () => {
  it.each(['validating', 'pending', 'accepting', 'deleting', 'expiring'] as const)(
    'lets the original answer stand while the transfer is %s',
    (status) => {
      expect(retriedCreationRefusal({ status, reason: null })).toBeNull();
    },
  );

  it('repeats a refused create’s refusal, so one key has one outcome', () => {
    expect(retriedCreationRefusal({ status: 'rejected', reason: 'DiskEncrypted' })).toEqual({ name: 'DiskEncrypted' });
    expect(retriedCreationRefusal({ status: 'rejected', reason: 'DependencyUnavailable' })).toEqual({ name: 'DependencyUnavailable' });
  });

  it.each(['accepted', 'deleted', 'expired'] as const)('answers a transfer that was %s with 409 EVS.5414, naming the outcome', (status) => {
    const refusal = retriedCreationRefusal({ status, reason: null });
    expect(refusal?.name).toBe('IdempotentTransferEnded');
    expect(ERROR_CATALOGUE.IdempotentTransferEnded).toMatchObject({ status: 409, code: 'EVS.5414' });
    expect(refusal?.details?.message).toContain(`(${status})`);
  });

  it('treats a transfer that ended without a known outcome as ended', () => {
    expect(retriedCreationRefusal(null)).toEqual({ name: 'IdempotentTransferEnded' });
  });
});
