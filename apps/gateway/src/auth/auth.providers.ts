/**
 * Credentials and the auth-key secret, built once at boot from config.
 *
 * Tokens are verified against config.auth.jwtPublicKeyFile. When that file
 * does not exist yet, the gateway creates the local issuer's key pair there
 * (development and tests: `npm run token` signs with the private half); an
 * operator verifying a real identity service's tokens points
 * JWT_PUBLIC_KEY_FILE at that service's key instead, or, for an OpenID
 * Connect provider, sets JWT_JWKS_URL: its tokens are then accepted beside
 * the local issuer's, each checked against its own issuer's keys.
 */
import * as fs from 'node:fs';
import { Logger, type Provider } from '@nestjs/common';
import { loadOrCreateSecret } from '../../../../libs/auth/src/auth-key';
import { ensureSigningKeys } from '../../../../libs/auth/src/local-issuer';
import { localIssuerFromPublicKeyFile, oidcProvider } from '../../../../libs/auth/src/jwt-issuers';
import {
  type CredentialVerifier,
  CredentialVerifierChain,
  JwtTokenVerifier,
} from '../../../../libs/auth/src/token-verifier';
import type { AppConfig } from '../../../../libs/config/src/config';
import { APP_CONFIG, AUTH_KEY_SECRET, CREDENTIAL_VERIFIER } from '../gateway.tokens';

export function createCredentialVerifier(auth: AppConfig['auth']): CredentialVerifier {
  if (!fs.existsSync(auth.jwtPublicKeyFile)) {
    new Logger('Auth').warn(`${auth.jwtPublicKeyFile} does not exist: creating the local token issuer's key pair`);
    ensureSigningKeys({ privateKeyFile: auth.jwtPrivateKeyFile, publicKeyFile: auth.jwtPublicKeyFile });
  }
  const local = localIssuerFromPublicKeyFile(auth.jwtPublicKeyFile, { issuer: auth.jwtIssuer, audience: auth.jwtAudience });
  const oidc = auth.jwks === null ? [] : [oidcProvider({ jwksUrl: auth.jwks.url, ...auth.jwks })];
  const jwt = new JwtTokenVerifier([local, ...oidc], { clockToleranceSeconds: auth.clockSkewSeconds });
  // Huawei AK/SK request signing joins this chain as a second verifier.
  return new CredentialVerifierChain([jwt]);
}

export const authProviders: Provider[] = [
  {
    provide: CREDENTIAL_VERIFIER,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => createCredentialVerifier(config.auth),
  },
  {
    provide: AUTH_KEY_SECRET,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): Buffer => loadOrCreateSecret(config.auth.authKeySecretFile),
  },
];
