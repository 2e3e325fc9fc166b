import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../../../../libs/auth/src/token-verifier';
import type { HttpRequest } from '../http/http.types';
import { type RequestContext, requestContext } from '../http/request-context';
import { type ApiVersion, requestBaseUrl } from './transfer.presenter';
import { IDEMPOTENCY_KEY_HEADER } from './transfer.validation';

/** Who is calling, under which API version and base URL: what the transfer service needs of the request. */
export interface Caller {
  principal: Principal;
  /** The path's {project_id}; AuthGuard has checked it is the principal's. */
  projectId: string;
  version: ApiVersion;
  /** The request's scheme and host, for links when no public base URL is configured. */
  requestBaseUrl: (configured: string) => string;
  context: RequestContext;
}

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
