import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { httpMetricsMiddleware, routeTemplate, UNMATCHED_ROUTE } from './http-metrics';
import { EventEmitter } from 'node:events';

describe('routeTemplate', () => {
  it("writes the router's template with {param} segments, never the raw URL", () => {
    const req = { url: '/v2/p1/os-volume-transfer/123', baseUrl: '', route: { path: '/:version/:project_id/os-volume-transfer/:transfer_id' } };
    expect(routeTemplate(req as never)).toBe('/{version}/{project_id}/os-volume-transfer/{transfer_id}');
  });

  it('prefixes the mount point of a sub-router', () => {
    expect(routeTemplate({ baseUrl: '/internal', route: { path: '/transfers/:id/lock' } } as never)).toBe('/internal/transfers/{id}/lock');
  });

  it('counts a request no route matched as unmatched', () => {
    expect(routeTemplate({ url: '/nothing/here/123' } as never)).toBe(UNMATCHED_ROUTE);
  });
});

describe('httpMetricsMiddleware', () => {
  it('observes one duration per finished response under method, route and status', async () => {
    const registry = new Registry();
    const middleware = httpMetricsMiddleware(registry);
    const req = { method: 'GET', url: '/healthz', baseUrl: '', route: { path: '/healthz' } };
    const res = Object.assign(new EventEmitter(), { statusCode: 200 });
    let nexted = false;
    middleware(req as never, res as never, () => (nexted = true));
    expect(nexted).toBe(true);
    res.emit('finish');
    const text = await registry.metrics();
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{http_request_method="GET",http_route="\/healthz",http_response_status_code="200"\} 1$/m);
  });
});
