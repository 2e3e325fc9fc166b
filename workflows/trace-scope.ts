/**
 * Which trace a workflow step belongs to. Temporal's interceptors open a span
 * for each update (an accept, a delete) and make it active in the handler,
 * but the steps an update sets going run later in the workflow's main loop,
 * whose active span is the run started by the create. Carrying the update's
 * context to those steps makes an accept one trace: its HTTP request, the
 * update, the disk's move and the events it produced.
 *
 * Only OpenTelemetry's in-memory context moves here; no command, timer or
 * history event depends on it, so replay is unaffected. Without the tracing
 * interceptors (no context manager registered) every scope is the root one.
 */
import { context, type Context } from '@opentelemetry/api';

export type TraceScope = Context;

export function currentTraceScope(): TraceScope {
  return context.active();
}

/** Calls `step` with `scope` active; returns what it returns, the same promise, with no extra await. */
export function inTraceScope<T>(scope: TraceScope, step: () => T): T {
  return context.with(scope, step);
}
