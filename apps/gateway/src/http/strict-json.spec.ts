import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../libs/domain/src/errors';
import { MAX_JSON_DEPTH, parseStrictJson } from './strict-json';

const bytes = (text: string) => new TextEncoder().encode(text);

function refusal(raw: Uint8Array): string {
  try {
    parseStrictJson(raw);
  } catch (err) {
    if (err instanceof DomainError && err.errorName === 'BadRequest') return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseStrictJson', () => {
  it('parses ordinary bodies, including a leading byte-order mark', () => {
    expect(parseStrictJson(bytes('{"transfer": {"volume_id": "v", "name": null}}'))).toEqual({ transfer: { volume_id: 'v', name: null } });
    expect(parseStrictJson(bytes('\uFEFF{"a": [1, {"a": 2}], "b": {"a": 3}}'))).toEqual({ a: [1, { a: 2 }], b: { a: 3 } });
  });

  it('is not fooled by braces, quotes and escapes inside strings', () => {
    const text = '{"a": "{\\"a\\": [", "b": "\\\\", "c": ["}", "]", ","], "d": {"a": ","}}';
    expect(parseStrictJson(bytes(text))).toEqual(JSON.parse(text));
  });

  it.each([
    ['at the top level', '{"transfer": {"volume_id": "a"}, "transfer": {"volume_id": "b"}}'],
    ['inside an object', '{"transfer": {"volume_id": "a", "name": "x", "volume_id": "b"}}'],
    ['spelled with an escape', '{"accept": {"auth_key": "a", "auth\\u005fkey": "b"}}'],
    ['in an object inside an array', '[{"a": 1, "a": 1}]'],
  ])('refuses a key given twice %s', (_where, text) => {
    expect(refusal(bytes(text))).toContain('key twice');
  });

  it('takes __proto__ and constructor as plain keys, touching no prototype', () => {
    const value = parseStrictJson(bytes('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}')) as object;
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses one more, however deep it goes`, () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => parseStrictJson(bytes(nested(MAX_JSON_DEPTH)))).not.toThrow();
    expect(refusal(bytes(nested(MAX_JSON_DEPTH + 1)))).toContain('nested');
    expect(refusal(bytes(`${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`))).toContain('nested');
  });

  it.each([
    ['bytes that are not UTF-8', Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'UTF-8'],
    ['an overlong encoding', Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]), 'UTF-8'],
    ['nothing', bytes(''), 'empty'],
    ['blanks', bytes(' \r\n\t'), 'empty'],
    ['broken JSON', bytes('{"transfer": '), 'not valid JSON'],
    ['JavaScript rather than JSON', bytes("{transfer: 'x'}"), 'not valid JSON'],
  ])('refuses %s', (_what, raw, mentioned) => {
    expect(refusal(raw)).toContain(mentioned);
  });
});
