/**
 * Huawei Cloud's AK/SK request signature, SDK-HMAC-SHA256, as the Huawei
 * Cloud SDKs compute it (huaweicloudsdkcore/signer/signer.py, class Signer).
 * Pure functions: what the gateway must rebuild from the request as it
 * arrived to check the signature the client sent.
 *
 *   canonical request = METHOD \n canonical URI \n canonical query \n
 *                       canonical headers (each line ending \n) \n
 *                       signed header names joined by ';' \n hex SHA-256 of the body
 *   string to sign    = SDK-HMAC-SHA256 \n <X-Sdk-Date> \n hex SHA-256 of the canonical request
 *   signature         = hex HMAC-SHA256(secret key, string to sign)
 *
 * Where the SDK's choices are not obvious (a decoded %2F splitting a path
 * segment, '+' in a query, the order of repeated query keys), the functions
 * follow the SDK, because the SDK's output is what arrives.
 */
import * as crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SDK_HMAC_ALGORITHM = 'SDK-HMAC-SHA256';
export const SDK_DATE_HEADER = 'x-sdk-date';
/** Lets a client declare the body's hash; the SDK puts UNSIGNED-PAYLOAD here for non-JSON bodies. */
export const SDK_CONTENT_SHA256_HEADER = 'x-sdk-content-sha256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SdkAuthorization {
  accessKeyId: string;
  /** Lower-case header names, in the order the client listed (and signed) them. */
  signedHeaders: string[];
  /** 64 lower-case hex characters. */
  signature: string;
}

/** Whether an Authorization header claims this scheme (then a malformed rest is a failed signature, not "no credentials"). */
export function isSdkHmacAuthorization(header: string): boolean {
  return header.trimStart().slice(0, SDK_HMAC_ALGORITHM.length + 1).toUpperCase() === `${SDK_HMAC_ALGORITHM} `;
}

// Bounds keep a hostile header from costing more than a real one.
const AUTHORIZATION =
  /^\s*SDK-HMAC-SHA256\s+Access=([A-Za-z0-9]{1,128}),\s*SignedHeaders=([a-z0-9;-]{1,1024}),\s*Signature=([0-9a-fA-F]{64})\s*$/i;
const HEADER_NAME = /^[a-z0-9-]{1,128}$/;

/** `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>`, or null when it is not exactly that. */
export function parseSdkAuthorization(header: string): SdkAuthorization | null {
  const match = AUTHORIZATION.exec(header);
  if (match === null) return null;
  const [, accessKeyId = '', names = '', signature = ''] = match;
  const signedHeaders = names.split(';');
  if (!signedHeaders.every((name) => HEADER_NAME.test(name))) return null;
  if (new Set(signedHeaders).size !== signedHeaders.length) return null;
  return { accessKeyId, signedHeaders, signature: signature.toLowerCase() };
}

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** X-Sdk-Date (`YYYYMMDDTHHMMSSZ`, UTC) as epoch milliseconds; null unless it is a real instant in exactly that form. */
export function parseSdkDate(value: string): number | null {
  const match = SDK_DATE.exec(value);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  // Date.UTC rolls 31 February into March; the round trip catches it.
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || back.getUTCHours() !== hour) return null;
  if (back.getUTCMinutes() !== minute || back.getUTCSeconds() !== second) return null;
  return ms;
}

/** The X-Sdk-Date form of an instant (what a signer sends). */
export function formatSdkDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Bytes left bare by the encoding: RFC 3986's unreserved set, as Python's quote(s, safe='~'). */
const UNRESERVED = /^[A-Za-z0-9\-_.~]$/;

/** Percent-encodes the UTF-8 bytes of `text`, leaving only A-Z a-z 0-9 - _ . ~ bare. */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * Decodes %XX escapes leniently, as Python's unquote does: an escape that is
 * not two hex digits stays as written, '+' stays '+', and bytes that are not
 * UTF-8 become U+FFFD. A strict decoder would throw where the SDK signed
 * something, and the signature check is what decides.
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const pair = text.slice(i + 1, i + 3);
    if (text[i] === '%' && HEX_PAIR.test(pair)) {
      bytes.push(parseInt(pair, 16));
      i += 2;
    } else {
      const codePoint = text.codePointAt(i) ?? 0;
      if (codePoint > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The path decoded as a whole, split on '/', each segment encoded again, and
 * a '/' at the end. Decoding first means an encoded '/' (%2F) separates
 * segments here, as it does in the SDK.
 */
export function canonicalUri(rawPath: string): string {
  const uri = percentDecode(rawPath).split('/').map(percentEncode).join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Code-point order (UTF-8 byte order), as Python sorts strings; JavaScript's '<' compares UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every key=value pair of the raw query, decoded, sorted by key and then
 * value (the SDK sorts (key, value) pairs), and encoded again; joined by '&'.
 * A pair without '=' has the empty value.
 */
export function canonicalQuery(rawQuery: string): string {
  const pairs = rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part): [string, string] => {
      const eq = part.indexOf('=');
      return eq < 0 ? [percentDecode(part), ''] : [percentDecode(part.slice(0, eq)), percentDecode(part.slice(eq + 1))];
    });
  pairs.sort(([ka, va], [kb, vb]) => byCodePoint(ka, kb) || byCodePoint(va, vb));
  return pairs.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&');
}

/**
 * A header value as the client had it before sending. Node reads header
 * bytes as Latin-1; the SDK sends its values' UTF-8 bytes and signs the
 * Unicode text, so non-ASCII values are read back as UTF-8.
 */
function headerText(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  return Buffer.from(value, 'latin1').toString('utf8');
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `name:trimmed value\n` for each signed header, in the signed order; null when one of them was not sent. */
export function canonicalHeaders(headers: IncomingHttpHeaders, signedHeaders: readonly string[]): string | null {
  let out = '';
  for (const name of signedHeaders) {
    const value = headerValue(headers, name);
    if (value === undefined) return null;
    out += `${name}:${headerText(value).trim()}\n`;
  }
  return out;
}

export function sha256Hex(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export interface SignedParts {
  method: string;
  /** The path as sent, without the query. */
  path: string;
  /** The query as sent, without '?'. */
  query: string;
  headers: IncomingHttpHeaders;
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body (of '' when there is none). */
  payloadHash: string;
}

/** The canonical request, or null when a signed header is missing from the request. */
export function canonicalRequest(parts: SignedParts): string | null {
  const headers = canonicalHeaders(parts.headers, parts.signedHeaders);
  if (headers === null) return null;
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.path),
    canonicalQuery(parts.query),
    headers,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SDK_HMAC_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

/** Hex HMAC-SHA256 of the string to sign, keyed with the secret key's UTF-8 bytes. */
export function sdkHmacSignature(secretKey: string, sdkDate: string, canonical: string): string {
  return crypto.createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(stringToSign(sdkDate, canonical), 'utf8').digest('hex');
}

/** Whether two hex signatures are equal, in time that does not depend on where they differ. */
export function signaturesEqual(expectedHex: string, givenHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  return expected.length === given.length && expected.length > 0 && crypto.timingSafeEqual(expected, given);
}
