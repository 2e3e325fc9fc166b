/**
 * Who is calling. A request is authenticated by the first verifier that
 * recognises its credentials: the X-Auth-Token JWT verifier, and Huawei
 * AK/SK request signing (Authorization: SDK-HMAC-SHA256 ...) beside it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { errors as joseErrors, jwtVerify } from 'jose';
import { isProjectId } from '../../domain/src/ids';
import { PROJECT_CLAIM, ROLES_CLAIM, TOKEN_ALGORITHM } from './local-issuer';

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
   * InvalidCredentialsError when it carries some that fail.
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

export class JwtTokenVerifier implements CredentialVerifier {
  constructor(
    private readonly publicKey: crypto.KeyObject,
    private readonly settings: JwtVerifierSettings,
  ) {}

  static fromPublicKeyFile(file: string, settings: JwtVerifierSettings): JwtTokenVerifier {
    const key = crypto.createPublicKey(fs.readFileSync(file));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 public key`);
    return new JwtTokenVerifier(key, settings);
  }

  async verify(request: CredentialRequest): Promise<Principal | null> {
    const token = headerValue(request.headers, AUTH_TOKEN_HEADER)?.trim();
    if (token === undefined || token === '') return null;
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidCredentialsError('token too long');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.clockToleranceSeconds ?? 30,
        requiredClaims: ['sub', 'exp', PROJECT_CLAIM],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new InvalidCredentialsError(err.code);
      throw err;
    }
    return principalFromClaims(payload);
  }
}

function principalFromClaims(payload: Record<string, unknown>): Principal {
  const { sub } = payload;
  const projectId = payload[PROJECT_CLAIM];
  const roles = payload[ROLES_CLAIM] ?? [];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw new InvalidCredentialsError('bad sub claim');
  if (!isProjectId(projectId)) throw new InvalidCredentialsError(`bad ${PROJECT_CLAIM} claim`);
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string')) {
    throw new InvalidCredentialsError(`bad ${ROLES_CLAIM} claim`);
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
