import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  isSdkHmacAuthorization,
  parseSdkAuthorization,
  parseSdkDate,
  percentDecode,
  percentEncode,
  sdkHmacSignature,
  sha256Hex,
  signaturesEqual,
} from './sdk-hmac-signature';
import { SDK_VECTORS, type SdkVector } from './sdk-hmac.fixtures';

function signatureOf(vector: SdkVector, secretKey = vector.secretKey): string {
  const auth = parseSdkAuthorization(vector.headers.authorization)!;
  const canonical = canonicalRequest({
    method: vector.method,
    path: vector.path,
    query: vector.query,
    headers: vector.headers,
    signedHeaders: auth.signedHeaders,
    payloadHash: sha256Hex(vector.body),
  });
  return sdkHmacSignature(secretKey, vector.headers['x-sdk-date'], canonical!);
}

describe('SDK-HMAC-SHA256 against the official Huawei Cloud SDK signer', () => {
  it.each(SDK_VECTORS.map((v) => [v.name, v] as const))('reproduces the SDK’s signature: %s', (_name, vector) => {
    expect(signatureOf(vector)).toBe(parseSdkAuthorization(vector.headers.authorization)!.signature);
  });

  it('depends on the secret key', () => {
    const [vector] = SDK_VECTORS as [SdkVector];
    expect(signatureOf(vector, `${vector.secretKey.slice(0, -1)}x`)).not.toBe(signatureOf(vector));
  });
});

describe('canonical URI', () => {
  it('re-encodes each segment and always ends with a slash', () => {
    expect(canonicalUri('/v2/p1/os-volume-transfer')).toBe('/v2/p1/os-volume-transfer/');
    expect(canonicalUri('/v2/p1/os-volume-transfer/')).toBe('/v2/p1/os-volume-transfer/');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('/a b/c%7Ed/%c3%bc')).toBe('/a%20b/c~d/%C3%BC/');
  });

  it('splits on an encoded slash, as the SDK does (it decodes the whole path first)', () => {
    expect(canonicalUri('/t/a%2Fb')).toBe('/t/a/b/');
  });
});

describe('canonical query', () => {
  it('sorts by key then value, encodes both, and keeps empty values', () => {
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('offset=0&limit=10')).toBe('limit=10&offset=0');
    expect(canonicalQuery('b=2&a=&b=1&flag')).toBe('a=&b=1&b=2&flag=');
    expect(canonicalQuery('name=x%20y&k%C3%A4y=%2a')).toBe('k%C3%A4y=%2A&name=x%20y');
  });

  it('sorts decoded values by code point, not by their encoding', () => {
    // Decoded 'x' (U+0078) sorts before 'ä' (U+00E4); encoded, '%C3%A4' would sort first.
    expect(canonicalQuery('name=%C3%A4&name=x')).toBe('name=x&name=%C3%A4');
  });

  it("takes '+' literally (RFC 3986): a signed space is %20", () => {
    expect(canonicalQuery('q=a+b')).toBe('q=a%2Bb');
  });
});

describe('percent encoding', () => {
  it('leaves only A-Z a-z 0-9 - _ . ~ bare', () => {
    expect(percentEncode("AZaz09-_.~ !*'()/?=&+:")).toBe('AZaz09-_.~%20%21%2A%27%28%29%2F%3F%3D%26%2B%3A');
    expect(percentEncode('ü€')).toBe('%C3%BC%E2%82%AC');
  });

  it('decodes leniently, like Python’s unquote', () => {
    expect(percentDecode('a%20b%zz%4')).toBe('a b%zz%4');
    expect(percentDecode('%ff')).toBe('\ufffd');
    expect(percentDecode('%C3%bc')).toBe('ü');
  });
});

describe('Authorization header', () => {
  const valid = `SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=host;x-sdk-date, Signature=${'Ab'.repeat(32)}`;

  it('parses access key, signed headers and signature', () => {
    expect(isSdkHmacAuthorization(valid)).toBe(true);
    expect(parseSdkAuthorization(valid)).toEqual({
      accessKeyId: 'QTWAOYTTINDUT2QVKYUC',
      signedHeaders: ['host', 'x-sdk-date'],
      signature: 'ab'.repeat(32),
    });
  });

  it('recognises other schemes as not its own', () => {
    expect(isSdkHmacAuthorization('Bearer abc')).toBe(false);
    expect(isSdkHmacAuthorization('SDK-HMAC-SM3 Access=A')).toBe(false);
  });

  it.each([
    ['a short signature', valid.replace(/Signature=\w+/, 'Signature=abcd')],
    ['no access key', valid.replace('Access=QTWAOYTTINDUT2QVKYUC', 'Access=')],
    ['a repeated signed header', valid.replace('host;x-sdk-date', 'host;host')],
    ['an empty signed header name', valid.replace('host;x-sdk-date', 'host;;x-sdk-date')],
    ['upper-case signed header names', valid.replace('host;x-sdk-date', 'Host;X-Sdk-Date')],
    ['fields out of order', `SDK-HMAC-SHA256 SignedHeaders=host, Access=A, Signature=${'a'.repeat(64)}`],
    ['trailing garbage', `${valid}, Extra=1`],
  ])('refuses %s', (_what, header) => {
    expect(parseSdkAuthorization(header)).toBeNull();
  });
});

describe('X-Sdk-Date', () => {
  it('reads and writes YYYYMMDDTHHMMSSZ in UTC', () => {
    const ms = Date.UTC(2026, 10, 28, 9, 30, 0);
    expect(parseSdkDate('20261128T093000Z')).toBe(ms);
    expect(formatSdkDate(ms + 999)).toBe('20261128T093000Z');
  });

  it.each(['20261128T093000', '2026-11-28T09:30:00Z', '20261131T093000Z', '20261128T246000Z', ' 20261128T093000Z', ''])(
    'refuses %j',
    (value) => {
      expect(parseSdkDate(value)).toBeNull();
    },
  );
});

describe('signaturesEqual', () => {
  it('is true only for the same bytes', () => {
    const a = 'ab'.repeat(32);
    expect(signaturesEqual(a, a)).toBe(true);
    expect(signaturesEqual(a, `${a.slice(0, -1)}c`)).toBe(false);
    expect(signaturesEqual(a, a.slice(0, 62))).toBe(false);
    expect(signaturesEqual('', '')).toBe(false);
  });
});
