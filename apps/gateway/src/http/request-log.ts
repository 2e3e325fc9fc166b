/**
 * The gateway's request log: every line made while a request is served
 * carries its request id (the X-Request-Id the caller got back), and one
 * line is written when the request ends:
 *
 *   {"level":"info",…,"context":"HttpRequest","method":"POST",
 *    "route":"/v2/{projectId}/os-volume-transfer/{transferId}/accept",
 *    "path":"/v2/p1/os-volume-transfer/0c5…/accept","status":202,"duration_ms":41.7,
 *    "request_id":"req-…","project_id":"p1","transfer_id":"0c5…","disk_id":"7d1…",
 *    "msg":"request completed"}
 *
 * Never the query string (a marker, a filter, whatever a client put there)
 * and never a header: credentials travel in X-Auth-Token, Authorization and
 * the signed-request headers.
 */
import { Logger } from '@nestjs/common';
import { routeTemplate } from '../../../../libs/observability/src/http-metrics';
import { withLogFields } from '../../../../libs/observability/src/log-fields';
import { activeTraceIds } from '../../../../libs/observability/src/trace-ids';
import { logSafe } from './http-error.filter';
import type { HttpRequest, HttpResponse } from './http.types';
import { requestContext } from './request-context';

/**
 * Polled every few seconds by supervisors, load balancers and Prometheus: at
 * info they would be most of the log and bury the API's own lines, so they
 * are logged at debug. Every API request is logged at info: one line each is
 * what an operator searches by request id or transfer id, and the gateway's
 * rate (tens to a few hundred a second) keeps that affordable.
 */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const MAX_PATH_CHARS = 512;

/** Mount right after requestContextMiddleware, so the id exists and every later layer runs inside. */
export function requestLogMiddleware(logger: Logger = new Logger('HttpRequest')) {
  return (req: HttpRequest, res: HttpResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    const context = requestContext(req);
    // Taken now: the span of the request is active here, not necessarily where the response ends.
    const traceIds = activeTraceIds();
    const path = (req.originalUrl ?? req.url ?? '/').split('?', 1)[0];
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const { transferId, volumeId } = context.target;
      const record = {
        msg: res.writableFinished ? 'request completed' : 'request aborted',
        method: req.method,
        route: routeTemplate(req),
        path: logSafe(path, MAX_PATH_CHARS),
        status: res.statusCode,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        request_id: context.requestId,
        ...(context.pathProjectId === null ? {} : { project_id: context.pathProjectId }),
        ...(transferId === null ? {} : { transfer_id: transferId }),
        ...(volumeId === null ? {} : { disk_id: volumeId }),
        ...traceIds,
      };
      if (PROBE_PATHS.has(path)) logger.debug(record);
      else logger.log(record);
    };
    res.once('finish', done);
    // A client that went away before the answer still gets its line.
    res.once('close', done);
    withLogFields({ request_id: context.requestId }, next);
  };
}
