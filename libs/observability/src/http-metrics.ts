/**
 * How long each HTTP request took, by method, route template and status
 * code, as http_server_request_duration_seconds with OpenTelemetry's stable
 * attribute names. The route is the template the router matched
 * (/v2/{project_id}/os-volume-transfer/{transfer_id}), never the raw URL: one
 * series per id would swamp Prometheus. A request no route matched counts
 * under "unmatched".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';

/** OpenTelemetry's default buckets for http.server.request.duration, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export const UNMATCHED_ROUTE = 'unmatched';

interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}

/** Express's ":param" segments written as OpenAPI's "{param}". */
export function routeTemplate(req: RoutedRequest): string {
  const path = req.route?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${path}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}') || '/';
}

export function httpServerDuration(registry: Registry): Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'> {
  return new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, from the first byte read to the last byte written.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
}

/** Express middleware: mount it first, so every request is timed, refused ones included. */
export function httpMetricsMiddleware(registry: Registry) {
  const duration = httpServerDuration(registry);
  return (req: RoutedRequest, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      duration.observe(
        {
          http_request_method: req.method ?? 'UNKNOWN',
          http_route: routeTemplate(req),
          http_response_status_code: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  };
}

/** Calls this process makes, as http_client_request_duration_seconds; status "0" when no answer came. */
export function httpClientDuration(registry: Registry): Histogram<'http_request_method' | 'url_template' | 'http_response_status_code'> {
  return new Histogram({
    name: 'http_client_request_duration_seconds',
    help: 'Duration of outgoing HTTP requests, by the called endpoint\'s path template.',
    labelNames: ['http_request_method', 'url_template', 'http_response_status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
}

/** An observer for a typed HTTP client that reports each call's method, path template and status. */
export function httpClientTimer(registry: Registry): (call: { method: string; route: string; status: number; seconds: number }) => void {
  const duration = httpClientDuration(registry);
  return ({ method, route, status, seconds }) =>
    duration.observe({ http_request_method: method, url_template: route, http_response_status_code: String(status) }, seconds);
}
