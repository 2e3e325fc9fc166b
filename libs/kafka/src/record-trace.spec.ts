import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTraceContext, traceHeaders } from './record-trace';

const SENDER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

describe('trace context on Kafka records', () => {
  // What startTracing registers: W3C propagation and an AsyncLocalStorage context.
  beforeAll(() => {
    new NodeTracerProvider().register();
  });
  afterAll(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('outside a span, a record carries no trace headers', () => {
    expect(traceHeaders()).toEqual({});
  });

  it('inside one, the W3C header and the CloudEvents extension both carry the sender', () => {
    const headers = context.with(trace.setSpanContext(context.active(), SENDER), () => traceHeaders());
    const traceparent = `00-${SENDER.traceId}-${SENDER.spanId}-01`;
    expect(headers).toEqual({ traceparent, ce_traceparent: traceparent });
  });

  it('a consumer continues the sender’s trace from either header, the plain one first', () => {
    const parent = (headers: Record<string, string | Buffer>) => trace.getSpanContext(recordTraceContext(headers));
    const traceparent = `00-${SENDER.traceId}-${SENDER.spanId}-01`;
    expect(parent({ traceparent: Buffer.from(traceparent) })).toMatchObject({ traceId: SENDER.traceId, spanId: SENDER.spanId, isRemote: true });
    expect(parent({ ce_traceparent: traceparent })).toMatchObject({ traceId: SENDER.traceId, spanId: SENDER.spanId });
    const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    expect(parent({ traceparent, ce_traceparent: other })?.traceId).toBe(SENDER.traceId);
    expect(parent({})).toBeUndefined();
    expect(parent({ traceparent: 'garbage' })).toBeUndefined();
  });
});
