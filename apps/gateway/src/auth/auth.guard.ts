import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import {
  type CredentialRequest,
  type CredentialVerifier,
  InvalidCredentialsError,
  type Principal,
  VerifierUnavailableError,
} from '../../../../libs/auth/src/token-verifier';
import { DomainError } from '../../../../libs/domain/src/errors';
import { CREDENTIAL_VERIFIER } from '../gateway.tokens';
import type { HttpRequest } from '../http/http.types';
import { readRawBody } from '../http/json-body.interceptor';
import { requestContext } from '../http/request-context';

/**
 * Authenticates every transfer route (401 without valid credentials, 503
 * when they cannot be checked because the identity provider is away) and
 * scopes it to the caller's project: the {project_id} in the path must be
 * the credentials' project (403). Which verifier applies (X-Auth-Token JWT
 * or AK/SK signing) is CREDENTIAL_VERIFIER's business.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');

  constructor(@Inject(CREDENTIAL_VERIFIER) private readonly verifier: CredentialVerifier) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const req = execution.switchToHttp().getRequest<HttpRequest>();
    const context = requestContext(req);
    const pathProjectId = req.params.projectId ?? null;
    context.pathProjectId = pathProjectId;

    let principal: Principal | null;
    try {
      principal = await this.verifier.verify(credentialRequest(req));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) throw new DomainError('Unauthenticated');
      if (err instanceof VerifierUnavailableError) {
        this.logger.warn(`credentials could not be checked: ${err.message}`);
        throw new DomainError('DependencyUnavailable', {
          message: 'The credentials could not be checked: the identity provider is unavailable. Retry later.',
        });
      }
      throw err;
    }
    if (principal === null) {
      throw new DomainError('Unauthenticated', {
        message: 'Credentials are missing: send an X-Auth-Token, or sign the request with an access key (Authorization: SDK-HMAC-SHA256 ...).',
      });
    }
    context.principal = principal;
    if (pathProjectId !== principal.projectId) {
      throw new DomainError('Forbidden', { message: 'The project in the path is not the project of the credentials.' });
    }
    return true;
  }
}

/** The request as sent, for verifiers that check a signature over it. */
export function credentialRequest(req: HttpRequest): CredentialRequest {
  const url = req.originalUrl ?? req.url ?? '/';
  const queryStart = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: queryStart < 0 ? url : url.slice(0, queryStart),
    query: queryStart < 0 ? '' : url.slice(queryStart + 1),
    headers: req.headers,
    body: () => readRawBody(req),
  };
}
