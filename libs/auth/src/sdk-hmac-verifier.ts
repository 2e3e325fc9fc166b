/**
 * Authenticates requests signed with an access key (Huawei AK/SK,
 * `Authorization: SDK-HMAC-SHA256 ...`), as the Huawei Cloud SDKs send them.
 *
 * Every failure is the same InvalidCredentialsError (401, one message for
 * all); the reason stays in the error for logs, never in the answer, so a
 * caller cannot tell an unknown key from a wrong signature. The access key
 * is looked up before the body is read: a caller without a valid key never
 * has its body buffered.
 *
 * A signature of a request that changes something (any method but GET and
 * HEAD) is accepted once within the date window; a copy sent again is
 * refused. Where used signatures are remembered is the caller's choice
 * (ReplayGuard): the gateway keeps them in the database its replicas share,
 * so a copy replayed to another gateway is refused there too; without one,
 * this process's memory.
 */
import type { AccessKeyLookup } from './access-key-store';
import { DomainError } from '../../domain/src/errors';
import {
  canonicalRequest,
  headerValue,
  isSdkHmacAuthorization,
  parseSdkAuthorization,
  parseSdkDate,
  SDK_CONTENT_SHA256_HEADER,
  SDK_DATE_HEADER,
  sdkHmacSignature,
  sha256Hex,
  signaturesEqual,
  UNSIGNED_PAYLOAD,
} from './sdk-hmac-signature';
import { type CredentialRequest, type CredentialVerifier, InvalidCredentialsError, type Principal } from './token-verifier';

export const PROJECT_ID_HEADER = 'x-project-id';
const REQUIRED_SIGNED_HEADERS = ['host', SDK_DATE_HEADER] as const;
/** Methods whose replay changes nothing; every other signed request is accepted once. */
const REPEATABLE_METHODS = new Set(['GET', 'HEAD']);
/**
 * Signatures remembered at most at once. At the default window a slot is
 * held for at most 10 minutes, so this allows about 160 signed changes a
 * second per gateway; past it, signed changes are refused with 503 rather
 * than forgetting a signature that could then be replayed.
 */
export const DEFAULT_REPLAY_CACHE_CAPACITY = 100_000;

export interface SdkHmacVerifierOptions {
  /** How far X-Sdk-Date may be from now, either way. */
  windowMs: number;
  now?: () => number;
  replayCacheCapacity?: number;
  /** Where used signatures are remembered; default: this process's memory. */
  replays?: ReplayGuard;
}

/** Remembers a used signature until its date leaves the window; 'full' when it cannot (the request is refused). */
export interface ReplayGuard {
  remember(key: string, expiresAtMs: number, nowMs: number): Promise<'fresh' | 'replayed' | 'full'> | 'fresh' | 'replayed' | 'full';
}

/** Signatures already used, each until its request's date leaves the window, in this process's memory. */
export class ReplayCache implements ReplayGuard {
  private readonly expiries = new Map<string, number>();
  private nextSweepMs = 0;

  constructor(
    private readonly capacity: number,
    private readonly sweepEveryMs: number,
  ) {}

  /**
   * Records `key` until `expiresAtMs`. 'replayed' if it is already recorded,
   * 'full' if there is no room (nothing recorded then).
   */
  remember(key: string, expiresAtMs: number, nowMs: number): 'fresh' | 'replayed' | 'full' {
    const known = this.expiries.get(key);
    if (known !== undefined && known > nowMs) return 'replayed';
    if (nowMs >= this.nextSweepMs || this.expiries.size >= this.capacity) this.sweep(nowMs);
    if (this.expiries.size >= this.capacity) return 'full';
    this.expiries.set(key, expiresAtMs);
    return 'fresh';
  }

  get size(): number {
    return this.expiries.size;
  }

  private sweep(nowMs: number): void {
    for (const [key, expiresAtMs] of this.expiries) {
      if (expiresAtMs <= nowMs) this.expiries.delete(key);
    }
    this.nextSweepMs = nowMs + this.sweepEveryMs;
  }
}

export class SdkHmacVerifier implements CredentialVerifier {
  private readonly now: () => number;
  private readonly replays: ReplayGuard;

  constructor(
    private readonly keys: AccessKeyLookup,
    private readonly options: SdkHmacVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.replays = options.replays ?? new ReplayCache(options.replayCacheCapacity ?? DEFAULT_REPLAY_CACHE_CAPACITY, options.windowMs);
  }

  async verify(request: CredentialRequest): Promise<Principal | null> {
    const header = headerValue(request.headers, 'authorization');
    if (header === undefined || !isSdkHmacAuthorization(header)) return null;
    const auth = parseSdkAuthorization(header);
    if (auth === null) throw new InvalidCredentialsError('malformed SDK-HMAC-SHA256 Authorization header');

    const sdkDate = headerValue(request.headers, SDK_DATE_HEADER)?.trim() ?? '';
    const signedAtMs = parseSdkDate(sdkDate);
    if (signedAtMs === null) throw new InvalidCredentialsError('missing or malformed X-Sdk-Date');
    const nowMs = this.now();
    if (Math.abs(nowMs - signedAtMs) > this.options.windowMs) throw new InvalidCredentialsError('X-Sdk-Date outside the window');

    const required = headerValue(request.headers, PROJECT_ID_HEADER) === undefined ? REQUIRED_SIGNED_HEADERS : [...REQUIRED_SIGNED_HEADERS, PROJECT_ID_HEADER];
    for (const name of required) {
      if (!auth.signedHeaders.includes(name)) throw new InvalidCredentialsError(`${name} is not signed`);
    }
    // Our bodies are JSON and decide what happens: a signature must cover them.
    if (headerValue(request.headers, SDK_CONTENT_SHA256_HEADER)?.trim().toUpperCase() === UNSIGNED_PAYLOAD) {
      throw new InvalidCredentialsError('unsigned payload');
    }

    const key = await this.keys.findActive(auth.accessKeyId);
    if (key === null) throw new InvalidCredentialsError('unknown or revoked access key');
    // The SDK names the project in X-Project-Id; a key acts for its own project only.
    const claimedProject = headerValue(request.headers, PROJECT_ID_HEADER)?.trim();
    if (claimedProject !== undefined && claimedProject !== key.principal.projectId) {
      throw new InvalidCredentialsError('X-Project-Id is not the access key’s project');
    }

    const body = await request.body();
    const canonical = canonicalRequest({
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash: sha256Hex(body),
    });
    if (canonical === null) throw new InvalidCredentialsError('a signed header is missing');
    if (!signaturesEqual(sdkHmacSignature(key.secretKey, sdkDate, canonical), auth.signature)) {
      throw new InvalidCredentialsError('signature mismatch');
    }

    if (!REPEATABLE_METHODS.has(request.method.toUpperCase())) {
      const outcome = await this.replays.remember(`${auth.accessKeyId}:${auth.signature}`, signedAtMs + this.options.windowMs, this.now());
      if (outcome === 'replayed') throw new InvalidCredentialsError('signature already used');
      if (outcome === 'full') {
        throw new DomainError('DependencyUnavailable', { message: 'Too many signed requests to check for replays; retry shortly.' });
      }
    }
    return { ...key.principal, roles: [...key.principal.roles] };
  }
}
