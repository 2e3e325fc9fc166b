/**
 * Which catalogue code a response carried, for whoever looks at the response
 * after it is sent (the refusal counters): kept beside the response, not on it.
 */
import type { ServerResponse } from 'node:http';

const codes = new WeakMap<ServerResponse, string>();

export function noteAnsweredError(res: ServerResponse, code: string): void {
  codes.set(res, code);
}

export function answeredErrorCode(res: ServerResponse): string | undefined {
  return codes.get(res);
}
