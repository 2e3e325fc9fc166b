/**
 * The parts of Express's request and response the gateway uses, typed here
 * so the gateway does not depend on @types/express (Express itself is
 * NestJS's platform, not a dependency of ours).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HttpRequest extends IncomingMessage {
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  /** The URL path without the query string. */
  path: string;
  /** The URL as the client sent it (req.url may be rewritten by routing). */
  originalUrl?: string;
  /** 'http' or 'https', from the socket (the gateway does not trust X-Forwarded-Proto). */
  protocol: string;
  body?: unknown;
}

export type HttpResponse = ServerResponse;
