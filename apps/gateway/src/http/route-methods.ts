/**
 * What routing leaves to chance, settled before any route runs:
 *
 * - A path whose percent-encoding does not decode to UTF-8 names nothing:
 *   404, as for an unknown path (the router would otherwise fail on the
 *   parameter with a 400 that no operation documents).
 * - A known path asked with a method none of its routes serves is 405 with
 *   an Allow header (RFC 9110), not the 404 of an unknown path, so a client
 *   can tell a wrong method from a wrong URL.
 *
 * The routes are the HTTP router's own (Nest's controllers and the API docs),
 * read when the first request arrives, once every route is registered. Of
 * the routes that match a path, those with the fewest parameters decide: a
 * literal segment claims the path ("…/os-volume-transfer/detail" is the list
 * route, which has no DELETE), as Nest's specificity routing does.
 */
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../../../../libs/domain/src/errors';
import { toErrorResponse } from './error-response';
import { writeError } from './error-writer';
import type { HttpResponse } from './http.types';
import { requestContext } from './request-context';

/** The parts of Express's router layers read here. */
export interface RouterLayer {
  route?: { methods: Record<string, boolean | undefined> };
  match(path: string): false | { keys: string[] };
}

/** Decodes every segment; false when one is not valid percent-encoded UTF-8. */
function decodable(path: string): boolean {
  try {
    for (const segment of path.split('/')) decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/** Methods the most specific routes matching `path` serve, upper case; null when no route matches. */
export function allowedMethods(layers: readonly RouterLayer[], path: string): Set<string> | null {
  let fewestParams = Infinity;
  let methods: Set<string> | null = null;
  for (const layer of layers) {
    if (!layer.route) continue;
    const match = layer.match(path);
    if (!match || match.keys.length > fewestParams) continue;
    if (match.keys.length < fewestParams) {
      fewestParams = match.keys.length;
      methods = new Set();
    }
    for (const [method, served] of Object.entries(layer.route.methods)) {
      if (served) methods?.add(method === '_all' ? '*' : method.toUpperCase());
    }
  }
  if (methods?.has('GET')) methods.add('HEAD');
  return methods;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** Order of the Allow header: the usual reading order of methods, whatever order routes were declared in. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const byUsualOrder = (a: string, b: string) =>
  (METHOD_ORDER.indexOf(a) + 1 || 99) - (METHOD_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b);

export function routeMethodsMiddleware(routerLayers: () => readonly RouterLayer[]) {
  return (req: IncomingMessage, res: HttpResponse, next: () => void): void => {
    const path = pathOf(req);
    const { requestId } = requestContext(req);
    if (!decodable(path)) {
      writeError(res, requestId, toErrorResponse(new DomainError('NotFound')));
      return;
    }
    const methods = allowedMethods(routerLayers(), path);
    const method = (req.method ?? 'GET').toUpperCase();
    if (methods === null || methods.has('*') || methods.has(method)) {
      next();
      return;
    }
    const allow = [...methods].sort(byUsualOrder).join(', ');
    const refusal = new DomainError('MethodNotAllowed', { message: `This resource answers only ${allow}.` });
    writeError(res, requestId, toErrorResponse(refusal), { Allow: allow });
  };
}
