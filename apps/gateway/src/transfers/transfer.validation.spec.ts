import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../libs/domain/src/errors';
import {
  parseAcceptTransfer,
  parseAllTenants,
  parseCreateTransfer,
  parseIdempotencyKey,
  parseListPage,
  parseTransferAction,
  parseTransferId,
} from './transfer.validation';

const VOLUME = '5B0E3AC5-6D6E-4D1B-9C1E-0D8A8A0B5D4E';

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseCreateTransfer', () => {
  it.each([
    [{ transfer: { volume_id: VOLUME } }, { volumeId: VOLUME.toLowerCase(), name: null }],
    [{ transfer: { volume_id: VOLUME, name: null } }, { volumeId: VOLUME.toLowerCase(), name: null }],
    [{ transfer: { volume_id: VOLUME, name: '  t1 ' } }, { volumeId: VOLUME.toLowerCase(), name: 't1' }],
    [{ transfer: { volume_id: VOLUME, name: '😀'.repeat(255) } }, { volumeId: VOLUME.toLowerCase(), name: '😀'.repeat(255) }],
    [{ transfer: { volume_id: VOLUME, name: '\u3000データ\u00a0' } }, { volumeId: VOLUME.toLowerCase(), name: 'データ' }],
  ])('accepts %j', (body, expected) => {
    expect(parseCreateTransfer(body)).toEqual({ ...expected, noSnapshots: null });
  });

  it.each([
    [true, true],
    [false, false],
    ['True', true],
    ['yes', true],
    ['ON', true],
    ['t', true],
    ['1', true],
    ['0', false],
    ['off', false],
    ['No', false],
    ['F', false],
  ])('takes no_snapshots %j as Cinder does from 3.55', (value, expected) => {
    expect(parseCreateTransfer({ transfer: { volume_id: VOLUME, no_snapshots: value } }, { noSnapshots: true }).noSnapshots).toBe(expected);
  });

  it.each([['maybe'], [''], [1], [null], [['true']], [{}]])('refuses no_snapshots %j with a 400 naming the field', (value) => {
    const error = refusal(() => parseCreateTransfer({ transfer: { volume_id: VOLUME, no_snapshots: value } }, { noSnapshots: true }));
    expect(error.errorName).toBe('BadRequest');
    expect(error.message).toContain('transfer.no_snapshots');
  });

  it('refuses no_snapshots where Cinder has no such field (os-volume-transfer, below 3.55)', () => {
    expect(refusal(() => parseCreateTransfer({ transfer: { volume_id: VOLUME, no_snapshots: true } })).message).toContain('unknown field: no_snapshots');
  });

  it.each([
    [undefined, 'body'],
    [null, 'body'],
    ['x', 'body'],
    [{}, 'transfer'],
    [{ transfer: [] }, 'transfer'],
    [{ transfer: {} }, 'transfer.volume_id'],
    [{ transfer: { volume_id: 'abc' } }, 'transfer.volume_id: must be a UUID'],
    [{ transfer: { volume_id: VOLUME, name: '' } }, 'transfer.name: must not be blank'],
    [{ transfer: { volume_id: VOLUME, name: ' \u2003\ufeff' } }, 'transfer.name: must not be blank'],
    [{ transfer: { volume_id: VOLUME, name: 'x'.repeat(256) } }, 'transfer.name: must be at most 255'],
    // Counted as sent, as Cinder's schema does, not after trimming.
    [{ transfer: { volume_id: VOLUME, name: `${' '.repeat(250)}abcdef` } }, 'transfer.name: must be at most 255'],
    [{ transfer: { volume_id: VOLUME, name: 'line\nbreak' } }, 'control characters'],
    [{ transfer: { volume_id: VOLUME, name: '\u001b[2Jcleared' } }, 'control characters'],
    [{ transfer: { volume_id: VOLUME, name: 'nul\u0000' } }, 'control characters'],
    [{ transfer: { volume_id: VOLUME, name: 'c1\u0085' } }, 'control characters'],
    [{ transfer: { volume_id: VOLUME, name: 'half \ud83d pair' } }, 'transfer.name'],
    [{ transfer: { volume_id: VOLUME, name: ['x'] } }, 'transfer.name'],
    [{ transfer: { volume_id: VOLUME, size: 1 } }, 'transfer: unknown field: size'],
    [{ transfer: { volume_id: VOLUME }, other: 1 }, 'body: unknown field: other'],
    [JSON.parse(`{"transfer": {"volume_id": "${VOLUME}"}, "__proto__": {"polluted": true}}`), 'unknown field: __proto__'],
    [JSON.parse(`{"transfer": {"volume_id": "${VOLUME}", "constructor": {"prototype": {"polluted": true}}}}`), 'unknown field: constructor'],
  ])('refuses %j naming %s', (body, mentioned) => {
    const error = refusal(() => parseCreateTransfer(body));
    expect(error.errorName).toBe('BadRequest');
    expect(error.message).toContain(mentioned);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('quotes back only short, plain unknown keys', () => {
    const odd = { transfer: { volume_id: VOLUME, ['k'.repeat(500)]: 1, 'a\r\nInjected: yes': 2 } };
    const message = refusal(() => parseCreateTransfer(odd)).message;
    expect(message).toBe('Invalid request body at transfer: unknown fields.');
  });
});

describe('parseAcceptTransfer', () => {
  it('returns the key as given', () => {
    expect(parseAcceptTransfer({ accept: { auth_key: ' 9266c59563c84664 ' } })).toEqual({ authKey: ' 9266c59563c84664 ' });
  });

  it.each([
    {},
    { accept: null },
    { accept: {} },
    { accept: { auth_key: 1 } },
    { accept: { auth_key: '' } },
    { accept: { auth_key: 'k', x: 1 } },
    { accept: { auth_key: 'lone \udc00 surrogate' } },
  ])(
    'refuses %j without echoing a key',
    (body) => {
      const error = refusal(() => parseAcceptTransfer(body));
      expect(error.errorName).toBe('BadRequest');
    },
  );

  it('never puts the key in the message', () => {
    const key = 'k'.repeat(300);
    expect(refusal(() => parseAcceptTransfer({ accept: { auth_key: key } })).message).not.toContain('kkkk');
  });
});

describe('parseListPage', () => {
  it.each([
    [{}, { limit: 1000, offset: 0 }],
    [{ limit: '1', offset: '0' }, { limit: 1, offset: 0 }],
    [{ limit: '1000', offset: '25' }, { limit: 1000, offset: 25 }],
    [{ limit: '007' }, { limit: 7, offset: 0 }],
    [{ marker: 'x', sort: 'created_at:desc', name: 'n' }, { limit: 1000, offset: 0 }],
    [{ offset: '9007199254740991' }, { limit: 1000, offset: Number.MAX_SAFE_INTEGER }],
  ])('reads %j', (query, page) => {
    expect(parseListPage(query)).toEqual(page);
  });

  it.each([
    { limit: '0' },
    { limit: '1001' },
    { limit: '' },
    { limit: ' 5' },
    { limit: '5e1' },
    { limit: '0x10' },
    { limit: ['1', '2'] },
    { limit: { a: '1' } },
    { offset: '-1' },
    { offset: '99999999999999999' },
    // One past the documented maximum: the fuzzer's first finding (a 400 for an offset the document allowed).
    { offset: '9007199254740992' },
    { offset: '36028797018963967' },
  ])('refuses %j', (query) => {
    expect(refusal(() => parseListPage(query)).errorName).toBe('BadRequest');
  });
});

describe('parseTransferId', () => {
  it('lower-cases a UUID and answers anything else with TransferNotFound', () => {
    expect(parseTransferId(VOLUME)).toBe(VOLUME.toLowerCase());
    for (const raw of [undefined, '', 'detail', `${VOLUME}x`, '../etc']) {
      expect(refusal(() => parseTransferId(raw)).errorName).toBe('TransferNotFound');
    }
  });
});

describe('parseAllTenants', () => {
  it.each(['1', 'true', 'True', 'YES', 'on', 't', 'y', '', ' 1 '])('reads %j as yes', (value) => {
    expect(parseAllTenants({ all_tenants: value })).toBe(true);
  });

  it.each(['0', 'false', 'False', 'no', 'off', 'f', 'n'])('reads %j as no', (value) => {
    expect(parseAllTenants({ all_tenants: value })).toBe(false);
  });

  it('reads an absent parameter as no', () => {
    expect(parseAllTenants({ limit: '5' })).toBe(false);
  });

  it.each([['maybe'], ['2'], [['1', '1']], [{ a: '1' }]])('has no answer for %j', (value) => {
    expect(parseAllTenants({ all_tenants: value })).toBeNull();
  });
});

describe('parseTransferAction', () => {
  it('takes os-force_delete with {} or null', () => {
    expect(parseTransferAction({ 'os-force_delete': {} })).toBe('os-force_delete');
    expect(parseTransferAction({ 'os-force_delete': null })).toBe('os-force_delete');
  });

  it.each([[{}], [{ 'os-force_delete': { now: true } }], [{ 'os-force_delete': {}, extra: 1 }], [{ 'os-reset_status': {} }], [null], ['os-force_delete']])(
    'refuses %j as a bad request',
    (body) => {
      expect(() => parseTransferAction(body)).toThrow(DomainError);
    },
  );
});

describe('parseIdempotencyKey', () => {
  it('is null when no key was sent', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey([])).toBeNull();
  });

  it.each([
    ['a UUID', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['one character', 'k'],
    ['inner spaces and punctuation', 'order 4711/retry "a"~!'],
    ['255 characters', 'k'.repeat(255)],
  ])('takes %s as it is', (_what, key) => {
    expect(parseIdempotencyKey([key])).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a leading space', ' order-17'],
    ['a trailing space', 'order-17 '],
    ['a tab', 'a\tb'],
    ['a non-ASCII letter', 'schlüssel'],
    ['a control character', 'a\u007fb'],
  ])('refuses %s with 400 EVS.5400, without quoting it', (_what, key) => {
    const error = refusal(() => parseIdempotencyKey([key]));
    expect(error.errorName).toBe('BadRequest');
    expect(error.message).toContain('Idempotency-Key must be 1 to 255 printable ASCII characters');
    if (key.trim() !== '') expect(error.message).not.toContain(key.trim());
  });

  it('refuses a key sent twice, even the same one twice', () => {
    const error = refusal(() => parseIdempotencyKey(['k', 'k']));
    expect(error.errorName).toBe('BadRequest');
    expect(error.message).toContain('at most once');
  });
});
