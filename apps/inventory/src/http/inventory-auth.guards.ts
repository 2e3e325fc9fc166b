/**
 * Who may call which half of the inventory. The internal API (transfer
 * steps, any project's disk) is for services only: a service signature
 * (libs/auth/src/service-signature.ts). The tenant API is for tenants only:
 * an X-Auth-Token of the project in the path. Neither credential opens the
 * other half, so a leaked tenant token never reaches another project's disk
 * and the service secret is never needed outside the services.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ServiceRequestVerifier } from '../../../../libs/auth/src/service-signature';
import {
  InvalidCredentialsError,
  type CredentialRequest,
  type CredentialVerifier,
  type Principal,
} from '../../../../libs/auth/src/token-verifier';
import { isProjectId } from '../../../../libs/domain/src/ids';
import { TENANT_READ, TENANT_WRITE } from '../../../../libs/auth/src/policy';
import { badRequest, forbidden, unauthenticated } from './inventory-http.error';

/** The CredentialVerifier of tenant tokens (libs/auth openJwtTokenVerifier in production). */
export const TENANT_TOKEN_VERIFIER = Symbol('TENANT_TOKEN_VERIFIER');

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

interface InventoryRequest {
  method: string;
  originalUrl: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string | undefined>;
  /** The JSON body as received; set by Nest's rawBody option, absent when nothing was parsed. */
  rawBody?: Buffer;
}

/** The request as it came over the wire, which is what a service signature covers. */
function credentialRequest(req: InventoryRequest): CredentialRequest {
  const queryStart = req.originalUrl.indexOf('?');
  return {
    method: req.method,
    path: queryStart < 0 ? req.originalUrl : req.originalUrl.slice(0, queryStart),
    query: queryStart < 0 ? '' : req.originalUrl.slice(queryStart + 1),
    headers: req.headers,
    body: () => Promise.resolve(req.rawBody ?? Buffer.alloc(0)),
  };
}

/**
 * Admits a call to `/internal/v1/...` only with a valid service signature:
 * 401 otherwise, including for a tenant token, which is no credential here.
 * Why a signature failed is logged (it is usually two secret files that
 * differ), never the header itself.
 */
@Injectable()
export class ServiceCredentialsGuard implements CanActivate {
  private readonly logger = new Logger('InventoryAuth');

  constructor(@Inject(ServiceRequestVerifier) private readonly verifier: ServiceRequestVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = credentialRequest(context.switchToHttp().getRequest<InventoryRequest>());
    let verified: boolean;
    try {
      verified = await this.verifier.verify(request);
    } catch (err) {
      if (!(err instanceof InvalidCredentialsError)) throw err;
      this.logger.warn(`Refused ${request.method} ${request.path}: ${err.message}`);
      throw unauthenticated('The service credentials are invalid.');
    }
    if (!verified) {
      throw unauthenticated('The internal API takes service credentials only (an EVS-HMAC-SHA256 Authorization header).');
    }
    return true;
  }
}

/**
 * Admits a tenant request to `/v3/{project_id}/...`: a valid X-Auth-Token
 * (401), a well-formed project id (400), the token's own project (403), and
 * roles that allow the method (403: reader reads; member and admin also
 * write). Resources of another project are then out of reach because every
 * query is scoped to the path's project (404).
 */
@Injectable()
export class TenantAccessGuard implements CanActivate {
  constructor(@Inject(TENANT_TOKEN_VERIFIER) private readonly verifier: CredentialVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<InventoryRequest>();
    const principal = await this.authenticate(req);
    if (!isProjectId(req.params.project_id)) throw badRequest('project_id: must be 1 to 64 letters, digits, "-" or "_"');
    if (req.params.project_id !== principal.projectId) {
      throw forbidden('The project in the path is not the project of the token.');
    }
    // The gateway's roles, applied the same way: reader reads, member and admin also write.
    const allowed = READ_METHODS.has(req.method) ? TENANT_READ : TENANT_WRITE;
    if (!principal.roles.some((role) => (allowed as readonly string[]).includes(role))) {
      throw forbidden(`This needs one of the roles ${allowed.join(', ')}.`);
    }
    return true;
  }

  private async authenticate(req: InventoryRequest): Promise<Principal> {
    let principal: Principal | null;
    try {
      principal = await this.verifier.verify(credentialRequest(req));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) throw unauthenticated('The X-Auth-Token is invalid or expired.');
      throw err;
    }
    if (principal === null) throw unauthenticated('Credentials are missing: send an X-Auth-Token.');
    return principal;
  }
}
