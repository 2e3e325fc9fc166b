/**
 * One server span per HTTP request, child of the caller's span when the
 * request carries a W3C `traceparent`, and active while the request is
 * handled, so the spans made for it (Temporal calls, inventory calls) join
 * the same trace. Named and labelled like the request metrics: method and
 * route template, never the raw URL.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeTemplate } from './http-metrics';
import { evsTracer } from './tracing';

/** Probes and scrapes, every few seconds from every poller: a span each would drown the requests that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Express middleware: mount it first, beside the metrics one. */
export function httpTracingMiddleware() {
  const tracer = evsTracer();
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (UNTRACED_PATHS.has((req.url ?? '/').split('?', 1)[0])) {
      next();
      return;
    }
    const method = req.method ?? 'UNKNOWN';
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.path': (req.url ?? '/').split('?', 1)[0], 'url.scheme': 'http' },
      },
      parent,
    );
    // Not recording (tracing off, or sampled out): nothing to end, but the context still travels on.
    if (!span.isRecording()) {
      context.with(trace.setSpan(parent, span), next);
      return;
    }
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeTemplate(req);
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    // A client that went away before the answer still ends the span.
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}
