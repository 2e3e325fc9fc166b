/**
 * Fields every log line made within a unit of work carries, whoever makes
 * the line: the gateway puts the request id here for the whole of a
 * request, so a Temporal call that fails deep inside it logs the id the
 * caller saw in X-Request-Id without being handed it. Kept in an
 * AsyncLocalStorage, as OpenTelemetry keeps the active span, so it follows
 * awaits and callbacks and never leaks into another request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogFields = Readonly<Record<string, string | number | boolean>>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to those already in force (an inner value wins). */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer === undefined ? fields : { ...outer, ...fields }, fn);
}

/** The fields in force here; empty outside any withLogFields. */
export function currentLogFields(): LogFields {
  return storage.getStore() ?? {};
}
