/**
 * Who is calling. A request is authenticated by the first verifier that
 * recognises its credentials: the X-Auth-Token JWT verifier, and Huawei
 * AK/SK request signing (Authorization: SDK-HMAC-SHA256 ...) beside it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { isProjectId } from '../../domain/src/ids';
import { localIssuerFromPublicKeyFile, type TrustedIssuer } from './jwt-issuers';
import { DEFAULT_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS } from './token-rules';

export { VerifierUnavailableError } from './verifier-unavailable';

export interface Principal {
  userId: string;
  projectId: string;
  roles: string[];
}

/**
 * What a verifier may look at. Signature schemes cover the method, the path,
 * the query and the body as sent, so they are passed raw, not parsed.
 */
export interface CredentialRequest {
  method: string;
  /** The path as sent: percent-encoding intact, no query string. */
  path: string;
  /** The query string as sent, without the leading '?'; '' when there is none. */
  query: string;
  headers: IncomingHttpHeaders;
  /**
   * The body's bytes, read (within the gateway's size limit) on the first
   * call. Only verifiers whose credentials cover the body call it, so a
   * caller without credentials never has its body buffered.
   */
  body(): Promise<Buffer>;
}

/** A request with no body and nothing but these headers: what token-only callers and tests need. */
export function headersOnlyRequest(headers: IncomingHttpHeaders): CredentialRequest {
  return { method: 'GET', path: '/', query: '', headers, body: () => Promise.resolve(Buffer.alloc(0)) };
}

/** Credentials were presented but do not hold: the request is refused (401), no other verifier is tried. */
export class InvalidCredentialsError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidCredentialsError';
  }
}

export interface CredentialVerifier {
  /**
   * The principal the request's credentials prove; null when the request
   * carries no credentials of this verifier's kind. Throws
   * InvalidCredentialsError when it carries some that fail, and
   * VerifierUnavailableError when they cannot be checked just now.
   */
  verify(request: CredentialRequest): Promise<Principal | null>;
}

export interface JwtVerifierSettings {
  issuer: string;
  audience: string;
  /** Allowed clock skew between issuer and gateway, seconds. */
  clockToleranceSeconds?: number;
}

export const AUTH_TOKEN_HEADER = 'x-auth-token';
/** Real tokens are a few hundred bytes; refuse to parse anything absurd. */
const MAX_TOKEN_LENGTH = 8192;
const MAX_ROLES = 64;

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * X-Auth-Token: a JWT of one of the trusted issuers. Its `iss`, read before
 * any check, only picks the issuer whose keys and rules then apply; the
 * signature, `iss`, `aud`, `exp` and `nbf` are all verified against that
 * issuer's settings, under one bounded clock skew.
 */
export class JwtTokenVerifier implements CredentialVerifier {
  private readonly issuers: ReadonlyMap<string, TrustedIssuer>;
  private readonly clockToleranceSeconds: number;

  constructor(issuers: readonly TrustedIssuer[], options: { clockToleranceSeconds?: number } = {}) {
    this.issuers = new Map(issuers.map((i) => [i.issuer, i]));
    if (this.issuers.size !== issuers.length) throw new Error('two trusted issuers share one iss');
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    if (!(this.clockToleranceSeconds >= 0 && this.clockToleranceSeconds <= MAX_CLOCK_SKEW_SECONDS)) {
      throw new Error(`clock tolerance must be 0 to ${MAX_CLOCK_SKEW_SECONDS} seconds`);
    }
  }

  /** Only the local issuer, whose public key is in `file`. */
  static fromPublicKeyFile(file: string, settings: JwtVerifierSettings): JwtTokenVerifier {
    return new JwtTokenVerifier([localIssuerFromPublicKeyFile(file, settings)], settings);
  }

  async verify(request: CredentialRequest): Promise<Principal | null> {
    const token = headerValue(request.headers, AUTH_TOKEN_HEADER)?.trim();
    if (token === undefined || token === '') return null;
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidCredentialsError('token too long');
    const trusted = this.issuerOf(token);
    const checks: JWTVerifyOptions = {
      algorithms: [...trusted.algorithms],
      issuer: trusted.issuer,
      audience: trusted.audience,
      clockTolerance: this.clockToleranceSeconds,
      requiredClaims: ['sub', 'exp'],
    };
    let payload: Record<string, unknown>;
    try {
      const { keys } = trusted;
      ({ payload } = typeof keys === 'function' ? await jwtVerify(token, keys, checks) : await jwtVerify(token, keys, checks));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new InvalidCredentialsError(err.code);
      throw err;
    }
    return principalFromClaims(payload, trusted.claims);
  }

  private issuerOf(token: string): TrustedIssuer {
    let iss: unknown;
    try {
      ({ iss } = decodeJwt(token));
    } catch {
      throw new InvalidCredentialsError('not a JWT');
    }
    const trusted = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (trusted === undefined) throw new InvalidCredentialsError('unknown issuer');
    return trusted;
  }
}

/**
 * A claim by name; a dotted name that is not itself a claim walks nested
 * objects (Keycloak's `realm_access.roles`), while a claim whose name holds
 * dots (namespaced claims such as `https://example.com/roles`) is found as is.
 */
export function claimValue(payload: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  if (!name.includes('.')) return undefined;
  let node: unknown = payload;
  for (const part of name.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function principalFromClaims(payload: Record<string, unknown>, claims: TrustedIssuer['claims']): Principal {
  const { sub } = payload;
  const projectId = claimValue(payload, claims.project);
  const roles = claimValue(payload, claims.roles) ?? [];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw new InvalidCredentialsError('bad sub claim');
  if (!isProjectId(projectId)) throw new InvalidCredentialsError(`bad ${claims.project} claim`);
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string')) {
    throw new InvalidCredentialsError(`bad ${claims.roles} claim`);
  }
  return { userId: sub, projectId, roles: [...roles] };
}

/** Tries each verifier in order; the first that recognises the credentials decides. */
export class CredentialVerifierChain implements CredentialVerifier {
  constructor(private readonly verifiers: readonly CredentialVerifier[]) {}

  async verify(request: CredentialRequest): Promise<Principal | null> {
    for (const verifier of this.verifiers) {
      const principal = await verifier.verify(request);
      if (principal !== null) return principal;
    }
    return null;
  }
}
