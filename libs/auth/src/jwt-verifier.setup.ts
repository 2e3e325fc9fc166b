/**
 * The X-Auth-Token verifier as every service that checks tokens builds it
 * from config, so the gateway and the inventory accept exactly the same
 * tokens: the local issuer's (key file, issuer, audience) and, when one is
 * configured, an OpenID Connect provider's (JWKS), with the same clock skew.
 */
import * as fs from 'node:fs';
import { localIssuerFromPublicKeyFile, type OidcProviderSettings, oidcProvider } from './jwt-issuers';
import { ensureSigningKeys } from './local-issuer';
import { JwtTokenVerifier } from './token-verifier';

/** The token settings of config.auth (AppConfig['auth'] fits). */
export interface JwtKeySettings {
  jwtPublicKeyFile: string;
  jwtPrivateKeyFile: string;
  jwtIssuer: string;
  jwtAudience: string;
  clockSkewSeconds: number;
  jwks: (Omit<OidcProviderSettings, 'jwksUrl'> & { url: string }) | null;
}

/**
 * When the public key file does not exist yet, the local issuer's key pair is
 * created there first (development and tests, where whichever service starts
 * first makes it); `onCreatingKeys` lets the caller say so in its log. An
 * operator who verifies a real identity service's tokens points the file at
 * that service's key, or names the service's JWKS, and nothing is created.
 */
export function openJwtTokenVerifier(settings: JwtKeySettings, onCreatingKeys?: (file: string) => void): JwtTokenVerifier {
  if (!fs.existsSync(settings.jwtPublicKeyFile)) {
    onCreatingKeys?.(settings.jwtPublicKeyFile);
    ensureSigningKeys({ privateKeyFile: settings.jwtPrivateKeyFile, publicKeyFile: settings.jwtPublicKeyFile });
  }
  const local = localIssuerFromPublicKeyFile(settings.jwtPublicKeyFile, { issuer: settings.jwtIssuer, audience: settings.jwtAudience });
  const oidc = settings.jwks === null ? [] : [oidcProvider({ jwksUrl: settings.jwks.url, ...settings.jwks })];
  return new JwtTokenVerifier([local, ...oidc], { clockToleranceSeconds: settings.clockSkewSeconds });
}
