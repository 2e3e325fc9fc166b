/**
 * What a token must satisfy whoever signed it, and the claim names the local
 * issuer writes. Pure and dependency-free: libs/config validates its
 * settings against these lists without pulling in the verifier.
 */

/** The claim naming the caller's project (Keystone's token names it project.id; a flat claim keeps JWT simple). */
export const PROJECT_CLAIM = 'project_id';
export const ROLES_CLAIM = 'roles';

/**
 * Signature algorithms a token verified by a public key may use. `none` and
 * the HMAC family (HS*) are absent on purpose: an HMAC "verified" with a
 * published key proves nothing, since anyone holding that key can forge it.
 */
export const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type PublicKeyAlgorithm = (typeof PUBLIC_KEY_ALGORITHMS)[number];

export function isPublicKeyAlgorithm(value: string): value is PublicKeyAlgorithm {
  return (PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(value);
}

export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** Beyond a few minutes, skew tolerance would quietly extend every token's life. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
