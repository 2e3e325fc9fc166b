/**
 * A small SDK-HMAC-SHA256 signer for end-to-end tests, written apart from
 * the gateway's verifier (libs/auth) so that a shared mistake cannot make
 * both sides agree: it follows the Huawei Cloud SDK's published algorithm,
 * signing every header it sends the way the SDK does.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigningKey {
  accessKeyId: string;
  secretKey: string;
}

export interface SignOptions {
  method: string;
  /** Absolute URL; its query is sent as given, so give it in canonical form (sorted, %20 for spaces). */
  url: string;
  key: SigningKey;
  body?: string;
  /** Extra headers to send and sign (lower-case names). */
  headers?: Record<string, string>;
  /** Default: now. */
  date?: Date;
}

// encodeURIComponent leaves !'()* bare; the SDK (Python's quote) encodes them.
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** YYYYMMDDTHHMMSSZ */
export function sdkDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** The headers to send: the given ones, Host, X-Sdk-Date and the Authorization that signs them all. */
export function signRequest(options: SignOptions): Record<string, string> {
  const url = new URL(options.url);
  const headers: Record<string, string> = { ...options.headers, host: url.host, 'x-sdk-date': sdkDate(options.date ?? new Date()) };
  const names = Object.keys(headers).sort();

  const segments = decodeURIComponent(url.pathname).split('/').map(encode);
  let uri = segments.join('/');
  if (!uri.endsWith('/')) uri += '/';
  const query = [...url.searchParams.entries()]
    .sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : va > vb ? 1 : 0) : ka < kb ? -1 : 1))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
  const canonical = [
    options.method.toUpperCase(),
    uri,
    query,
    names.map((n) => `${n}:${(headers[n] ?? '').trim()}\n`).join(''),
    names.join(';'),
    sha256(options.body ?? ''),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${headers['x-sdk-date']}\n${sha256(canonical)}`;
  const signature = createHmac('sha256', options.key.secretKey).update(toSign, 'utf8').digest('hex');
  return { ...headers, authorization: `SDK-HMAC-SHA256 Access=${options.key.accessKeyId}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
