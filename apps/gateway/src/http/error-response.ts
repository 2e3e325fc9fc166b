/**
 * The one mapping from anything thrown to the public error shape
 * {"error": {"code", "message"}} and its HTTP status. Domain errors map
 * through ERROR_CATALOGUE; Nest's own HTTP errors (unknown route, ...) map to
 * the catalogue entry of their status; a database that is away (after the
 * stores' bounded retries) is a 503 the client may retry; everything else
 * is a 500 that says nothing about internals.
 */
import { HttpException } from '@nestjs/common';
import { DatabaseUnavailableError, isTransientDatabaseError } from '../../../../libs/database/src/transient';
import { DomainError, ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';

export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string } };
  /** Seconds, for 429 (Retry-After). */
  retryAfterSeconds?: number;
  /** True when the error was not one the gateway expects: it is logged with its stack. */
  unexpected: boolean;
}

function fromName(name: ErrorName, message?: string): Omit<ErrorResponse, 'unexpected'> {
  const entry = ERROR_CATALOGUE[name];
  return { status: entry.status, body: { error: { code: entry.code, message: message ?? entry.message } } };
}

/** Nest's HTTP exceptions by status; any other client error is reported as a bad request. */
function nameForHttpStatus(status: number): ErrorName {
  switch (status) {
    case 401:
      return 'Unauthenticated';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 503:
      return 'DependencyUnavailable';
    default:
      return status >= 400 && status < 500 ? 'BadRequest' : 'Internal';
  }
}

export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof DomainError) {
    const response = fromName(err.errorName, err.message);
    const retryAfter = err.details.retryAfterSeconds;
    if (response.status === 429) {
      return { ...response, retryAfterSeconds: retryAfter !== undefined && retryAfter > 0 ? Math.ceil(retryAfter) : 1, unexpected: false };
    }
    return { ...response, unexpected: err.errorName === 'Internal' };
  }
  if (err instanceof HttpException) {
    const name = nameForHttpStatus(err.getStatus());
    // Nest's messages ("Cannot GET /x") are accurate but not ours; the
    // catalogue's are the contract.
    return { ...fromName(name), unexpected: name === 'Internal' };
  }
  if (err instanceof DatabaseUnavailableError || isTransientDatabaseError(err)) {
    return { ...fromName('DependencyUnavailable'), unexpected: false };
  }
  return { ...fromName('Internal'), unexpected: true };
}
