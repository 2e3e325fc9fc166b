/**
 * Trace context on Kafka records, both ways. A published record carries the
 * W3C `traceparent` (and `tracestate`) of the span that sent it as plain
 * headers, which any OpenTelemetry-instrumented consumer reads, and as the
 * CloudEvents distributed-tracing extension (`ce_traceparent`, binary mode),
 * which CloudEvents tooling reads. A consumer processes each record in a
 * span that continues that trace.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';

const TRACE_FIELDS = ['traceparent', 'tracestate'] as const;

/** The active context as record headers; empty with tracing off or outside a span. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const headers: Record<string, string> = {};
  for (const field of TRACE_FIELDS) {
    const value = carrier[field];
    if (value === undefined || value === '') continue;
    headers[field] = value;
    headers[`ce_${field}`] = value;
  }
  return headers;
}

/** The sender's context from a consumed record's headers: the plain header, else the CloudEvents one. */
export function recordTraceContext(headers: IHeaders | undefined): Context {
  const carrier: Record<string, string> = {};
  for (const field of TRACE_FIELDS) {
    const value = headerText(headers?.[field]) ?? headerText(headers?.[`ce_${field}`]);
    if (value !== undefined) carrier[field] = value;
  }
  return propagation.extract(context.active(), carrier);
}

export interface TracedRecord {
  topic: string;
  partition: number;
  offset: string;
  headers?: IHeaders;
}

/** Runs `process` for one consumed record inside a consumer span, child of the span that sent it. */
export async function inConsumeSpan<T>(record: TracedRecord, consumerGroup: string, process: () => Promise<T>): Promise<T> {
  const span = trace.getTracer('evs-disk-transfer').startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.kafka.offset': Number(record.offset),
        'messaging.consumer.group.name': consumerGroup,
      },
    },
    recordTraceContext(record.headers),
  );
  try {
    return await context.with(trace.setSpan(context.active(), span), process);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
