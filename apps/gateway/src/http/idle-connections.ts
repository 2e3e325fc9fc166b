/**
 * How long the gateway keeps an idle keep-alive connection open. Node closes one after 5 s, and a
 * client that reuses its pooled connection in the moment that close arrives gets ECONNRESET for a
 * request the gateway never saw (likely the one reset a benchmark run met in about 2,000
 * journeys). The side that pools the connection (an SDK's agent, a load balancer) should be the
 * one to close it, so the gateway waits longer than their usual idle limits (60 s for most).
 */
import type { Server } from 'node:http';

const IDLE_KEEP_ALIVE_MS = 65_000;

export function keepIdleConnectionsOpen(server: Server): void {
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  // The usual pairing behind load balancers: the header deadline never shorter than the idle wait.
  server.headersTimeout = Math.max(server.headersTimeout, IDLE_KEEP_ALIVE_MS + 1_000);
}
