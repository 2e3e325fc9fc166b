import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import { ApiAuditService } from '../audit/api-audit.service';
import { toErrorResponse } from './error-response';
import { writeError } from './error-writer';
import type { HttpRequest, HttpResponse } from './http.types';
import { requestContext } from './request-context';

const LOGGED_CHARS = 2000;

/**
 * A value for a log line: control characters escaped, so nothing a client
 * put in a path or an exception message can start a forged log line or
 * drive an operator's terminal, and long values cut.
 */
export function logSafe(value: string, maxChars = LOGGED_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > maxChars ? `${escaped.slice(0, maxChars)}…(${escaped.length - maxChars} more)` : escaped;
}

/**
 * The gateway's only exception filter: every error leaves through here. Nest
 * does not await a filter, so catch() must never reject; the error is written
 * once the audit record is committed (recordOutcome never rejects).
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(@Inject(ApiAuditService) private readonly audit: ApiAuditService) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    const context = requestContext(req);
    const response = toErrorResponse(exception);

    if (response.unexpected) {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      // A stack keeps its lines, each indented, so no line of it can pass for a log line of its own.
      const lines = detail.split('\n').map((line) => logSafe(line));
      this.logger.error(`${context.requestId} ${req.method} ${logSafe(req.originalUrl ?? req.url ?? '')}: ${lines.slice(0, 50).join('\n    | ')}`);
    }
    await this.audit.recordOutcome(context, response.status, response.body.error.code);

    if (res.headersSent) {
      res.destroy();
      return;
    }
    writeError(res, context.requestId, response);
  }
}
