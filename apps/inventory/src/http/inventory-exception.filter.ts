import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { DatabaseUnavailableError } from '../../../../libs/database/src/transient';
import { errorForStatus, InventoryHttpError } from './inventory-http.error';

/** What the JSON body parser throws (http-errors): a status and a type, no HttpException. */
interface BodyParserError {
  status: number;
  type: string;
}

function isBodyParserError(e: unknown): e is BodyParserError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as Partial<BodyParserError>).status === 'number' &&
    typeof (e as Partial<BodyParserError>).type === 'string'
  );
}

const BODY_PARSER_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON.',
  'entity.too.large': 'The request body is too large.',
  'encoding.unsupported': 'The request body encoding is not supported.',
  'charset.unsupported': 'The request body charset is not supported.',
};

/**
 * The store kept failing with transient errors through its retries (a SQLite
 * lock held past busy_timeout, a PostgreSQL server gone or a race lost each
 * time): nothing was written, a retry later may succeed.
 */
function isDatabaseUnavailable(e: unknown): boolean {
  if (e instanceof DatabaseUnavailableError) return true;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function bodyParserMessage(e: unknown): string | undefined {
  return isBodyParserError(e) ? BODY_PARSER_MESSAGES[e.type] : undefined;
}

/**
 * Every error leaves as `{"error": {"name", "code", "message"}}` with no
 * stack trace; unexpected ones are logged here with theirs and answered 500.
 */
@Catch()
export class InventoryExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('InventoryHttp');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const error = this.toInventoryError(exception);
    if (httpAdapter.isHeadersSent(response)) return;
    httpAdapter.reply(response, error.toBody(), error.status);
  }

  private toInventoryError(exception: unknown): InventoryHttpError {
    if (exception instanceof InventoryHttpError) return exception;
    // Nest wraps the body parser's errors (bad JSON, too large) in an HttpException; its cause says which.
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return errorForStatus(exception.getStatus(), bodyParserMessage(exception.cause));
    }
    if (isBodyParserError(exception) && exception.status < 500) {
      return errorForStatus(exception.status, bodyParserMessage(exception));
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable; answered 503: ${exception instanceof Error ? exception.message : String(exception)}`);
      return new InventoryHttpError('DependencyUnavailable', 503, 'The inventory database is busy or unreachable; retry.');
    }
    this.logger.error('Unexpected error', exception instanceof Error ? exception.stack : String(exception));
    return errorForStatus(500);
  }
}
