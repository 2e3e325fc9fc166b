/**
 * Service credentials: how a service (the worker, a test harness) proves
 * itself to the inventory's internal API. Both sides hold a random secret
 * from one file; every request carries an HMAC-SHA256 over its method, path,
 * query, body, a date and a one-time nonce:
 *
 *   Authorization: EVS-HMAC-SHA256 Date=20261128T093000Z, Nonce=<32 hex>, Signature=<64 hex>
 *
 * Why a signature rather than sending the secret as a bearer token: the
 * secret never travels, so a captured request (a proxy's log, a packet
 * trace) cannot be turned into other requests, and replaying it as is fails
 * too: the date bounds it to a few minutes and the verifier refuses a nonce
 * it has already seen within that time.
 */
import * as crypto from 'node:crypto';
import { loadOrCreateRandomKey } from './key-files';
import { InvalidCredentialsError, type CredentialRequest } from './token-verifier';

export const SERVICE_AUTH_SCHEME = 'EVS-HMAC-SHA256';
export const SERVICE_SECRET_BYTES = 32;
/**
 * How far a request's date may be from the verifier's clock, either way:
 * room for clock skew between hosts and for a slow request, and the time a
 * nonce must be remembered.
 */
export const SERVICE_SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

const HEADER = new RegExp(`^${SERVICE_AUTH_SCHEME} Date=(\\d{8}T\\d{6}Z), Nonce=([0-9a-f]{32}), Signature=([0-9a-f]{64})$`);
const DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The shared service secret, created on first use by whichever process (inventory, worker) starts first. */
export function loadOrCreateServiceSecret(file: string): Buffer {
  return loadOrCreateRandomKey(file, SERVICE_SECRET_BYTES, 'Inventory service secret');
}

/** What a signature covers: the request as sent, path percent-encoded as on the wire, query without '?'. */
export interface SignedRequestParts {
  method: string;
  path: string;
  query: string;
  body: Buffer | string;
}

function compactDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseCompactDate(value: string): number | null {
  const m = DATE.exec(value);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20261345T... over into another day; only a date that reads back the same is one.
  return compactDate(ms) === value ? ms : null;
}

function signature(secret: Buffer, parts: SignedRequestParts, date: string, nonce: string): string {
  const bodyHash = crypto.createHash('sha256').update(parts.body).digest('hex');
  const signed = [SERVICE_AUTH_SCHEME, parts.method.toUpperCase(), parts.path, parts.query, date, nonce, bodyHash].join('\n');
  return crypto.createHmac('sha256', secret).update(signed, 'utf8').digest('hex');
}

/** The Authorization header value for one request; never reuse it for another. */
export function signServiceRequest(
  secret: Buffer,
  parts: SignedRequestParts,
  options: { nowMs?: number; nonce?: string } = {},
): string {
  const date = compactDate(options.nowMs ?? Date.now());
  const nonce = options.nonce ?? crypto.randomBytes(16).toString('hex');
  return `${SERVICE_AUTH_SCHEME} Date=${date}, Nonce=${nonce}, Signature=${signature(secret, parts, date, nonce)}`;
}

/** Claims a nonce until `untilMs`: true the first time, false for a replay. */
export interface NonceGuard {
  claim(nonce: string, untilMs: number, nowMs: number): Promise<boolean>;
}

/**
 * Nonces in this process's memory: for a single inventory process and for
 * tests. A restart forgets them, which reopens a replay for at most the
 * window; replicas need the shared one (the inventory's database).
 */
export class MemoryNonceGuard implements NonceGuard {
  private readonly seenNonces = new Map<string, number>();

  async claim(nonce: string, untilMs: number, nowMs: number): Promise<boolean> {
    this.forgetExpired(nowMs);
    if (this.seenNonces.has(nonce)) return false;
    this.seenNonces.set(nonce, untilMs);
    return true;
  }

  /** Nonces go in roughly in date order, so sweeping from the oldest until a live one is enough. */
  private forgetExpired(now: number): void {
    for (const [nonce, until] of this.seenNonces) {
      if (until >= now) return;
      this.seenNonces.delete(nonce);
    }
  }
}

/**
 * Checks service signatures and has the nonces of accepted requests
 * remembered until their dates leave the window. Only requests that carry a
 * valid signature are remembered, so the memory is bounded by the services'
 * own traffic over twice the window.
 */
export class ServiceRequestVerifier {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
    private readonly nonces: NonceGuard = new MemoryNonceGuard(),
  ) {
    if (secret.length !== SERVICE_SECRET_BYTES) throw new Error(`The service secret must be ${SERVICE_SECRET_BYTES} bytes`);
  }

  /**
   * False when the request carries no Authorization header. Throws
   * InvalidCredentialsError (with a reason for the log, not for the caller)
   * when it carries one that does not prove the secret for this request.
   */
  async verify(request: CredentialRequest): Promise<boolean> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') return false;
    const match = HEADER.exec(header);
    if (match === null) throw new InvalidCredentialsError(`Authorization is not an ${SERVICE_AUTH_SCHEME} signature`);
    const [, date, nonce, claimed] = match as unknown as [string, string, string, string];
    const dateMs = parseCompactDate(date);
    const now = this.now();
    if (dateMs === null || Math.abs(now - dateMs) > SERVICE_SIGNATURE_MAX_SKEW_MS) {
      throw new InvalidCredentialsError('signature date outside the allowed clock skew');
    }
    const parts = { method: request.method, path: request.path, query: request.query, body: await request.body() };
    const expected = Buffer.from(signature(this.secret, parts, date, nonce), 'hex');
    if (!crypto.timingSafeEqual(expected, Buffer.from(claimed, 'hex'))) {
      throw new InvalidCredentialsError('signature does not match');
    }
    if (!(await this.nonces.claim(nonce, dateMs + SERVICE_SIGNATURE_MAX_SKEW_MS, now))) {
      throw new InvalidCredentialsError('nonce already used');
    }
    return true;
  }
}
