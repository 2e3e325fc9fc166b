/**
 * Per-request facts gathered as the request passes the layers (request id
 * first, then the audited action, the caller, the target, the outcome), kept
 * beside the request rather than as ad-hoc properties on it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiAction } from '../../../../libs/contracts/src/events';
import type { Principal } from '../../../../libs/auth/src/token-verifier';
import type { Microversion } from '../versions/microversion';
import type { ClientAddressResolver } from './client-address';
import type { HttpResponse } from './http.types';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/**
 * The same id under the header OpenStack services send (oslo's request-id
 * middleware): openstacksdk and keystoneauth read the request id of a
 * response, errors included, from this one.
 */
export const OPENSTACK_REQUEST_ID_HEADER = 'X-OpenStack-Request-Id';

export interface RequestContext {
  /**
   * `req-<uuid>`, generated here. A client-sent X-Request-Id (or
   * X-OpenStack-Request-Id) is ignored: this id becomes the Temporal update
   * id and the audit record's id, so a client choosing it could replay or
   * collide with another call's, and its value would reach headers and logs.
   */
  requestId: string;
  startedAtMs: number;
  /** The TCP peer, or the client a configured trusted proxy names (ClientAddressResolver). */
  sourceIp: string | null;
  /** The route's action (every transfer route has one); audited when AUDITED_ACTIONS has it. */
  action: ApiAction | null;
  /**
   * What the request does instead when the policy refuses `action`: a
   * tenant's list with all_tenants is its own project's list, as in Cinder.
   */
  fallbackAction: ApiAction | null;
  principal: Principal | null;
  pathProjectId: string | null;
  target: { transferId: string | null; volumeId: string | null };
  audited: boolean;
  /**
   * The version the request is served at: the negotiated v3 microversion,
   * 2.0 under /v2, null outside the versioned API (discovery, health).
   */
  microversion: Microversion | null;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

function peerAddress(req: IncomingMessage): string | null {
  const address = req.socket?.remoteAddress;
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/**
 * The context of a new request. Without a resolver (a request that bypassed
 * the middleware) the source is the TCP peer: X-Forwarded-For is never
 * believed by default.
 */
export function createRequestContext(req: IncomingMessage, clientAddress?: ClientAddressResolver): RequestContext {
  const peer = peerAddress(req);
  const context: RequestContext = {
    requestId: newRequestId(),
    startedAtMs: Date.now(),
    sourceIp: clientAddress ? clientAddress.resolve(peer, req.headers) : peer,
    action: null,
    fallbackAction: null,
    principal: null,
    pathProjectId: null,
    target: { transferId: null, volumeId: null },
    audited: false,
    microversion: null,
  };
  contexts.set(req, context);
  return context;
}

/** The request's context; created on the spot for a request that bypassed the middleware. */
export function requestContext(req: IncomingMessage): RequestContext {
  return contexts.get(req) ?? createRequestContext(req);
}

/**
 * First middleware of the app (mounted with app.use, before the API docs
 * routes too): every response, even a 404 for an unknown path or the OpenAPI
 * document, carries the request id, under both headers.
 */
export function requestContextMiddleware(clientAddress: ClientAddressResolver) {
  return (req: IncomingMessage, res: HttpResponse, next: () => void): void => {
    const context = createRequestContext(req, clientAddress);
    res.setHeader(REQUEST_ID_HEADER, context.requestId);
    res.setHeader(OPENSTACK_REQUEST_ID_HEADER, context.requestId);
    next();
  };
}
