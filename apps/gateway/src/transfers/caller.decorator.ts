import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../../../../libs/auth/src/token-verifier';
import type { HttpRequest } from '../http/http.types';
import { type RequestContext, requestContext } from '../http/request-context';
import { type ApiVersion, requestBaseUrl } from './transfer.presenter';
import { IDEMPOTENCY_KEY_HEADER } from './transfer.validation';
import { LEGACY_V2, MIN_MICROVERSION, type Microversion } from '../versions/microversion';

/** Who is calling, under which API version and base URL: what the transfer service needs of the request. */
export interface Caller {
  principal: Principal;
  /** The path's {project_id}; AuthGuard has checked it is the principal's. */
  projectId: string;
  version: ApiVersion;
  /** The microversion the request is served at (2.0 under /v2). */
  microversion: Microversion;
  /** Which collection the path named: Cinder's extension route, or v3's own (3.55 and later). */
  collection: TransferCollection;
  /** The request's scheme and host, for links when no public base URL is configured. */
  requestBaseUrl: (configured: string) => string;
  context: RequestContext;
}

export type TransferCollection = 'os-volume-transfer' | 'volume-transfers';

/** v2 or v3, from the path: the controller is mounted under exactly those two prefixes. */
function apiVersion(req: HttpRequest): ApiVersion {
  return req.path.split('/')[1]?.toLowerCase() === 'v3' ? 'v3' : 'v2';
}

export const CallerInfo = createParamDecorator((_data: unknown, execution: ExecutionContext): Caller => {
  const req = execution.switchToHttp().getRequest<HttpRequest>();
  const context = requestContext(req);
  if (context.principal === null) throw new Error('CallerInfo used on a route without AuthGuard');
  return {
    principal: context.principal,
    projectId: context.principal.projectId,
    version: apiVersion(req),
    microversion: context.microversion ?? (apiVersion(req) === 'v3' ? MIN_MICROVERSION : LEGACY_V2),
    collection: req.path.split('/')[3] === 'volume-transfers' ? 'volume-transfers' : 'os-volume-transfer',
    requestBaseUrl: (configured) =>
      requestBaseUrl(configured, {
        protocol: req.protocol,
        host: req.headers.host,
        localAddress: req.socket.localAddress,
        localPort: req.socket.localPort,
      }),
    context,
  };
});

/**
 * The create's Idempotency-Key header lines, each as received (undefined
 * when there is none): node would join repeated lines with a comma, which
 * could pass for one key.
 */
export const IdempotencyKeyHeader = createParamDecorator((_data: unknown, execution: ExecutionContext): string[] | undefined => {
  const req = execution.switchToHttp().getRequest<HttpRequest>();
  return req.headersDistinct[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
});
