/**
 * The ids of the span active where a log line is made, under the names
 * OpenTelemetry's log data model and most log pipelines use. Empty outside a
 * span, and when tracing is off (the API's no-op spans have an invalid context).
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';

export interface TraceIds {
  trace_id?: string;
  span_id?: string;
}

export function activeTraceIds(): TraceIds {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}
