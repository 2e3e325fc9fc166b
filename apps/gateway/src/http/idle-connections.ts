/**
 * How long the gateway keeps an idle keep-alive connection open. Node closes one after 5 s, and a
 * client that reuses its pooled connection in the moment that close arrives gets ECONNRESET for a
 * request the gateway never saw (the benchmark met one in about 2,000 journeys). The side that
 * pools the connection (an SDK's agent, a load balancer) should be the one to close it, so the
 * gateway waits longer than their usual idle limits (60 s for most load balancers and pools).
 */
import type { Server } from 'node:http';

export const IDLE_KEEP_ALIVE_MS = 65_000;

export function keepIdleConnectionsOpen(server: Server): void {
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  // Kept above the idle wait (older Node versions timed a kept-alive connection's next headers from
  // when it went idle, and closed it at the header deadline first).
  server.headersTimeout = Math.max(server.headersTimeout, IDLE_KEEP_ALIVE_MS + 1_000);
}
