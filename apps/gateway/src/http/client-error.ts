/**
 * Requests Node's HTTP parser refuses before any middleware sees them (a
 * header with a bare CR, an oversized request line or headers, a body framed
 * two ways at once) are answered in the public error shape, with a request
 * id, instead of Node's bare status line. Each is a 400 EVS.5400: the
 * contract's error table has no other code for a malformed request.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError } from '../../../../libs/domain/src/errors';
import { toErrorResponse } from './error-response';
import { rawErrorResponse } from './error-writer';
import { newRequestId } from './request-context';

function messageFor(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'The request line and headers exceed the size limit.';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'The request was not received in time.';
    default:
      return 'The request is not valid HTTP/1.1.';
  }
}

export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
    // Never write into a response already under way: the peer would read a corrupted stream.
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const response = toErrorResponse(new DomainError('BadRequest', { message: messageFor(err.code) }));
    socket.end(rawErrorResponse(newRequestId(), response));
  });
}
