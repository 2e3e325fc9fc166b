/**
 * The issuers whose tokens the gateway trusts, each with its own keys and
 * rules: the local issuer (one Ed25519 public key in a PEM file) and,
 * optionally, an OpenID Connect provider whose keys are fetched from its
 * JWKS URL. A token names its issuer (`iss`), and that picks the keys it is
 * checked against; within a key set, jose picks the key by `kid` and `alg`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { PROJECT_CLAIM, ROLES_CLAIM, TOKEN_ALGORITHM } from './local-issuer';
import type { PublicKeyAlgorithm } from './token-rules';
import { VerifierUnavailableError } from './verifier-unavailable';

export interface TrustedIssuer {
  /** The `iss` its tokens carry; unique among the trusted issuers. */
  issuer: string;
  audience: string;
  /** The only `alg` values accepted from this issuer. */
  algorithms: readonly string[];
  /** One public key, or a key set asked for the key of each token. */
  keys: crypto.KeyObject | JWTVerifyGetKey;
  /** Claim names of the caller's project and roles; a dotted name reaches into nested objects. */
  claims: { project: string; roles: string };
}

export function localIssuerFromPublicKeyFile(file: string, settings: { issuer: string; audience: string }): TrustedIssuer {
  const key = crypto.createPublicKey(fs.readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 public key`);
  return {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [TOKEN_ALGORITHM],
    keys: key,
    claims: { project: PROJECT_CLAIM, roles: ROLES_CLAIM },
  };
}

export interface OidcProviderSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  algorithms: readonly PublicKeyAlgorithm[];
  projectClaim: string;
  rolesClaim: string;
}

/** jose's caching of the key set; the defaults are jose's own. */
export interface KeySetCaching {
  /** Longest wait for the JWKS endpoint. Default 5000. */
  timeoutMs?: number;
  /**
   * A token with an unknown `kid` refetches the set (a provider rotating
   * keys publishes the new one first), but at most once per cooldown, so
   * made-up kids cannot turn the gateway into a load generator. Default 30000.
   */
  cooldownMs?: number;
  /** Keys are refetched when older than this, even if every kid is known. Default 600000. */
  cacheMaxAgeMs?: number;
}

/**
 * jose's errors that say the token does not fit the key set (no key with its
 * kid/alg, several, or an algorithm the set cannot serve): the caller's
 * problem. Anything else while getting a key (network, timeout, not 200, not
 * a key set) says the provider is unavailable or misconfigured.
 */
function isTokenMismatch(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JOSENotSupported
  );
}

export function oidcProvider(settings: OidcProviderSettings, caching: KeySetCaching = {}): TrustedIssuer {
  const url = new URL(settings.jwksUrl);
  const keySet = createRemoteJWKSet(url, {
    timeoutDuration: caching.timeoutMs,
    cooldownDuration: caching.cooldownMs,
    cacheMaxAge: caching.cacheMaxAgeMs,
  });
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (err) {
      // Rethrown as is: jwtVerify tries each key of a JWKSMultipleMatchingKeys itself.
      if (isTokenMismatch(err)) throw err;
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new VerifierUnavailableError(`the key set at ${url.origin}${url.pathname} could not be fetched (${reason})`, { cause: err });
    }
  };
  return {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...settings.algorithms],
    keys,
    claims: { project: settings.projectClaim, roles: settings.rolesClaim },
  };
}
