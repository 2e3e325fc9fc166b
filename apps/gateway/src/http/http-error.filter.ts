import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiAuditService } from '../audit/api-audit.service';
import { toErrorResponse } from './error-response';
import type { HttpRequest, HttpResponse } from './http.types';
import { OPENSTACK_REQUEST_ID_HEADER, REQUEST_ID_HEADER, requestContext } from './request-context';

/** The gateway's only exception filter: every error leaves through here. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ApiAuditService) private readonly audit: ApiAuditService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    const context = requestContext(req);
    const response = toErrorResponse(exception);

    if (response.unexpected) {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(`${context.requestId} ${req.method} ${req.path}: ${detail}`);
    }
    this.audit.recordOutcome(context, response.status, response.body.error.code);

    if (res.headersSent) {
      res.destroy();
      return;
    }
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, REQUEST_ID_HEADER, context.requestId);
    adapter.setHeader(res, OPENSTACK_REQUEST_ID_HEADER, context.requestId);
    if (response.retryAfterSeconds !== undefined) {
      adapter.setHeader(res, 'Retry-After', String(response.retryAfterSeconds));
    }
    adapter.reply(res, response.body, response.status);
  }
}
