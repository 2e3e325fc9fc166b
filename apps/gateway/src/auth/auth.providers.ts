/**
 * Credentials and the auth-key secret, built once at boot from config.
 *
 * A request is authenticated by its X-Auth-Token when it has one, else by
 * its AK/SK signature (Authorization: SDK-HMAC-SHA256 ...).
 *
 * Tokens are verified against config.auth.jwtPublicKeyFile. When that file
 * does not exist yet, the gateway creates the local issuer's key pair there
 * (development and tests: `npm run token` signs with the private half); an
 * operator verifying a real identity service's tokens points
 * JWT_PUBLIC_KEY_FILE at that service's key instead, or, for an OpenID
 * Connect provider, sets JWT_JWKS_URL: its tokens are then accepted beside
 * the local issuer's, each checked against its own issuer's keys. The
 * inventory builds its token verifier the same way (openJwtTokenVerifier).
 *
 * Signatures are checked against the access-key store, which the gateway
 * opens (creating its schema and master key on first start) and the
 * access-keys command fills.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { openOrExit } from '../../../../libs/database/src/open-or-exit';
import { AccessKeyStore, type AccessKeyLookup } from '../../../../libs/auth/src/access-key-store';
import { loadOrCreateSecret } from '../../../../libs/auth/src/auth-key';
import { openJwtTokenVerifier } from '../../../../libs/auth/src/jwt-verifier.setup';
import { type ReplayGuard, SdkHmacVerifier } from '../../../../libs/auth/src/sdk-hmac-verifier';
import { type CredentialVerifier, CredentialVerifierChain } from '../../../../libs/auth/src/token-verifier';
import type { AppConfig } from '../../../../libs/config/src/config';
import type { GatewayGuards } from '../guards/gateway-guards.store';
import { ACCESS_KEY_STORE, APP_CONFIG, AUTH_KEY_SECRET, CREDENTIAL_VERIFIER, GATEWAY_GUARDS } from '../gateway.tokens';

export function createCredentialVerifier(auth: AppConfig['auth'], accessKeys: AccessKeyLookup, replays?: ReplayGuard): CredentialVerifier {
  const jwt = openJwtTokenVerifier(auth, (file) =>
    new Logger('Auth').warn(`${file} does not exist: creating the local token issuer's key pair`),
  );
  const signed = new SdkHmacVerifier(accessKeys, { windowMs: auth.signatureWindowMs, replays });
  return new CredentialVerifierChain([jwt, signed]);
}

/** Closes the access-key store's connections after the HTTP server has stopped. */
@Injectable()
export class AccessKeyStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ACCESS_KEY_STORE) private readonly store: AccessKeyStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

export const authProviders: Provider[] = [
  {
    provide: ACCESS_KEY_STORE,
    inject: [APP_CONFIG],
    useFactory: async (config: AppConfig) => {
      const store = await openOrExit(() =>
        AccessKeyStore.open(config.databases.accessKeys, {
          masterKeyFile: config.auth.accessKeyMasterKeyFile,
          masterKeyringDir: config.auth.accessKeyMasterKeyringDir,
          poolMax: config.databases.poolMax,
        }),
      );
      // Key ids, never keys: what an operator rotating the master key checks on every gateway.
      new Logger('AccessKeys').log(`master keys: ${store.keyring.describe()}`);
      return store;
    },
  },
  AccessKeyStoreLifecycle,
  {
    provide: CREDENTIAL_VERIFIER,
    inject: [APP_CONFIG, ACCESS_KEY_STORE, GATEWAY_GUARDS],
    useFactory: (config: AppConfig, store: AccessKeyStore, guards: GatewayGuards) =>
      createCredentialVerifier(config.auth, store, {
        remember: async (key, expiresAtMs, nowMs) => ((await guards.signatures.claim(key, expiresAtMs, nowMs)) ? 'fresh' : 'replayed'),
      }),
  },
  {
    provide: AUTH_KEY_SECRET,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): Buffer => loadOrCreateSecret(config.auth.authKeySecretFile),
  },
];
