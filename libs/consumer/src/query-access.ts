/**
 * Who may call a consumer's HTTP API. Every route needs an X-Auth-Token
 * of an administrator (libs/auth CONSUMER_QUERY_ROLES), verified as the
 * gateway and the inventory verify tokens (openJwtTokenVerifier: the local
 * issuer's key, and an OpenID Connect provider's when one is configured),
 * unless the route is marked @OpenRoute(): /healthz and /metrics, which
 * operators' probes and Prometheus call without credentials and which say
 * nothing about any project.
 *
 * The guard is global (APP_GUARD), so a query controller an application
 * adds is guarded without asking; opening a route takes a decorator anyone
 * reviewing it can see.
 *
 * Tokens only, no AK/SK signatures: access keys exist so the Huawei Cloud
 * SDKs can call the Cinder API unchanged, and no SDK calls these routes;
 * checking a signature would need the access-key store and the master key
 * that decrypts every secret key on each consumer host, where a token needs
 * only a public key.
 *
 * Refusals are in the gateway's shape and codes: 401 EVS.5401 without valid
 * credentials, 403 EVS.5403 without the role, 503 EVS.5503 when the
 * identity provider's keys cannot be fetched (so a client retries rather
 * than discarding a good token).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, type Provider, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { type JwtKeySettings, openJwtTokenVerifier } from '../../auth/src/jwt-verifier.setup';
import { CONSUMER_QUERY_ROLES, holdsOneOf } from '../../auth/src/policy';
import {
  type CredentialVerifier,
  headersOnlyRequest,
  InvalidCredentialsError,
  type Principal,
  VerifierUnavailableError,
} from '../../auth/src/token-verifier';
import { queryError } from './query-http';

/** The CredentialVerifier of X-Auth-Token (openJwtTokenVerifier from config; specs may give their own). */
export const QUERY_TOKEN_VERIFIER = Symbol('QUERY_TOKEN_VERIFIER');

const OPEN_ROUTE = 'evs:consumer:open-route';

/** A route (or every route of a controller) that answers without credentials. */
export const OpenRoute = (): ClassDecorator & MethodDecorator => SetMetadata(OPEN_ROUTE, true);

@Injectable()
export class QueryAccessGuard implements CanActivate {
  private readonly logger = new Logger('QueryAccess');

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(QUERY_TOKEN_VERIFIER) private readonly verifier: CredentialVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean | undefined>(OPEN_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    const principal = await this.authenticate(headers);
    if (!holdsOneOf(principal.roles, CONSUMER_QUERY_ROLES)) {
      throw queryError(
        'Forbidden',
        `Policy forbids queries of this service for these credentials: it needs one of the roles ${CONSUMER_QUERY_ROLES.join(', ')}.`,
      );
    }
    return true;
  }

  private async authenticate(headers: IncomingHttpHeaders): Promise<Principal> {
    let principal: Principal | null;
    try {
      principal = await this.verifier.verify(headersOnlyRequest(headers));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) throw queryError('Unauthenticated', 'The X-Auth-Token is invalid or expired.');
      if (err instanceof VerifierUnavailableError) {
        this.logger.warn(`credentials could not be checked: ${err.message}`);
        throw queryError('DependencyUnavailable', 'The credentials could not be checked: the identity provider is unavailable. Retry later.');
      }
      throw err;
    }
    if (principal === null) {
      throw queryError('Unauthenticated', 'Credentials are missing: send an X-Auth-Token (this API takes tokens, not access-key signatures).');
    }
    return principal;
  }
}

/**
 * The token verifier and the guard on every route, as ConsumerModule
 * registers them. The verifier creates the local issuer's key pair when its
 * public key file does not exist yet (development: whichever process starts
 * first), as the gateway's and the inventory's do.
 */
export function queryAccessProviders(tokens: JwtKeySettings): Provider[] {
  return [
    {
      provide: QUERY_TOKEN_VERIFIER,
      useFactory: () =>
        openJwtTokenVerifier(tokens, (file) =>
          new Logger('QueryAccess').warn(`${file} does not exist: creating the local token issuer's key pair`),
        ),
    },
    { provide: APP_GUARD, useClass: QueryAccessGuard },
  ];
}
