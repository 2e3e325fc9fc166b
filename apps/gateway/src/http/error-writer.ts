/**
 * Writes an ErrorResponse: the public body, the request id under both
 * headers, Retry-After for 429, and any extra headers (Allow for 405). The
 * exception filter, the middleware that answers before routing, and the
 * handler of requests Node cannot even parse all answer through here, so an
 * error looks the same whichever layer refused the request.
 */
import { noteAnsweredError } from './answered-error';
import { OPENSTACK_REQUEST_ID_HEADER, REQUEST_ID_HEADER } from './request-context';
import type { ErrorResponse } from './error-response';
import type { HttpResponse } from './http.types';

function errorHeaders(requestId: string, response: ErrorResponse, body: string, extra: Record<string, string>): [string, string][] {
  return [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    [REQUEST_ID_HEADER, requestId],
    [OPENSTACK_REQUEST_ID_HEADER, requestId],
    ...(response.retryAfterSeconds !== undefined ? [['Retry-After', String(response.retryAfterSeconds)] as [string, string]] : []),
    ...Object.entries(extra),
  ];
}

export function writeError(res: HttpResponse, requestId: string, response: ErrorResponse, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(response.body);
  res.statusCode = response.status;
  noteAnsweredError(res, response.body.error.code);
  for (const [name, value] of errorHeaders(requestId, response, body, extraHeaders)) res.setHeader(name, value);
  // Node leaves the body out by itself when the request was HEAD.
  res.end(body);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error' };

/** The same answer as HTTP/1.1 bytes, for a connection on which Node could not parse a request (there is no response object). */
export function rawErrorResponse(requestId: string, response: ErrorResponse): string {
  const body = JSON.stringify(response.body);
  const head = [
    `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? 'Error'}`,
    ...errorHeaders(requestId, response, body, { Connection: 'close' }).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
