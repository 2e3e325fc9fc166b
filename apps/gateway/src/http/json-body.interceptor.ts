/**
 * Reads a POST route's JSON body. The app is created with Nest's body parser
 * off (GATEWAY_APP_OPTIONS) and the body is read here, in an interceptor,
 * because interceptors run after guards: an unauthenticated caller is told
 * 401 whatever it sent, and the gateway never buffers a body for a caller it
 * does not know.
 *
 * Every failure is a 400 EVS.5400, including a body over the limit, a
 * Content-Type other than JSON and JSON that parseStrictJson refuses: the
 * contract's error table has no 413/415 for these (413 is the recipient's
 * quota), and Cinder itself treats an undecodable body as a bad request. A request without Content-Type is read
 * as JSON, as Cinder does.
 */
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { from, type Observable, switchMap } from 'rxjs';
import { DomainError } from '../../../../libs/domain/src/errors';
import type { HttpRequest } from './http.types';
import { parseStrictJson } from './strict-json';

export const MAX_BODY_BYTES = 64 * 1024;

const badRequest = (message: string) => new DomainError('BadRequest', { message });

function checkContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const [mediaType = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    throw badRequest('Content-Type must be application/json.');
  }
  for (const parameter of parameters) {
    const [name, value = ''] = parameter.split('=').map((s) => s.trim());
    if (name === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(value)) {
      throw badRequest('The request body must be UTF-8 encoded JSON.');
    }
  }
}

/**
 * The body, or null once it passes maxBytes. Past the limit the rest is
 * discarded as it arrives (the stream keeps flowing with no listener), so
 * the socket stays usable for the 400 the caller is sent.
 */
function readUpTo(req: HttpRequest, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    // The stream's own message (ECONNRESET, aborted, ...) is Node's business, not the client's.
    const onError = () => {
      cleanup();
      reject(badRequest('The request body could not be read.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const rawBodies = new WeakMap<HttpRequest, Promise<Buffer>>();

/**
 * The request's body bytes, read once and kept for later callers: the auth
 * guard hashes them for a signed request, then readJsonBody parses them.
 * Over the limit, or compressed, it is a 400.
 */
export function readRawBody(req: HttpRequest, maxBytes: number = MAX_BODY_BYTES): Promise<Buffer> {
  let body = rawBodies.get(req);
  if (body === undefined) {
    body = readRawBodyOnce(req, maxBytes);
    rawBodies.set(req, body);
  }
  return body;
}

async function readRawBodyOnce(req: HttpRequest, maxBytes: number): Promise<Buffer> {
  if (req.body !== undefined || req.readableEnded) {
    // Another body parser consumed the stream: the app was not created with GATEWAY_APP_OPTIONS.
    throw new Error('request body already consumed; create the gateway with bodyParser: false');
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') throw badRequest('Compressed request bodies are not accepted.');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw badRequest(`The request body exceeds ${maxBytes} bytes.`);
  const raw = await readUpTo(req, maxBytes);
  if (raw === null) throw badRequest(`The request body exceeds ${maxBytes} bytes.`);
  return raw;
}

export async function readJsonBody(req: HttpRequest, maxBytes: number = MAX_BODY_BYTES): Promise<unknown> {
  checkContentType(req.headers['content-type']);
  return parseStrictJson(await readRawBody(req, maxBytes));
}

@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = execution.switchToHttp().getRequest<HttpRequest>();
    return from(readJsonBody(req)).pipe(
      switchMap((body) => {
        req.body = body;
        return next.handle();
      }),
    );
  }
}
