/**
 * Negotiates the microversion of every request under /v3/ before routing,
 * authentication or anything else, as Cinder's WSGI resource does: a
 * refused version answers at once with Cinder's fault body; an accepted one
 * is noted in the request context and named in the response
 * (`OpenStack-API-Version: volume X.Y`, `Vary: OpenStack-API-Version`),
 * errors included. Under /v2/ the request is served at 2.0 and, as in
 * Cinder's legacy endpoints, the response names no version.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpResponse } from '../http/http.types';
import { OPENSTACK_REQUEST_ID_HEADER, REQUEST_ID_HEADER, requestContext } from '../http/request-context';
import {
  API_VERSION_HEADER,
  LEGACY_V2,
  LEGACY_VOLUME_VERSION_HEADER,
  negotiateMicroversion,
  negotiationFaultBody,
  versionHeaderValue,
} from './microversion';

const V3 = /^\/v3\//i;
const V2 = /^\/v2\//i;

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function microversionMiddleware() {
  return (req: IncomingMessage, res: HttpResponse, next: () => void): void => {
    const path = pathOf(req);
    const context = requestContext(req);
    if (V2.test(path)) {
      context.microversion = { ...LEGACY_V2 };
      next();
      return;
    }
    if (!V3.test(path)) {
      next();
      return;
    }
    const negotiation = negotiateMicroversion({
      standard: req.headersDistinct[API_VERSION_HEADER.toLowerCase()],
      legacy: req.headersDistinct[LEGACY_VOLUME_VERSION_HEADER.toLowerCase()],
    });
    res.setHeader('Vary', API_VERSION_HEADER);
    if (!negotiation.ok) {
      const body = JSON.stringify(negotiationFaultBody(negotiation.refusal));
      res.statusCode = negotiation.refusal.status;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', String(Buffer.byteLength(body)));
      res.setHeader(REQUEST_ID_HEADER, context.requestId);
      res.setHeader(OPENSTACK_REQUEST_ID_HEADER, context.requestId);
      res.end(body);
      return;
    }
    context.microversion = negotiation.version;
    res.setHeader(API_VERSION_HEADER, versionHeaderValue(negotiation.version));
    next();
  };
}
