/**
 * Temporal's OpenTelemetry interceptors, wired the same way wherever the
 * transfer workflows run (the worker, the replay test, tests' own workers).
 *
 * The workflow interceptors are always in the bundle, tracing on or off: the
 * bundle is built once per release, and a history must replay under the same
 * code whether or not the worker that made it exported spans. Their spans
 * leave the sandbox through a sink, which must therefore always be
 * registered; with tracing off it leads to a span processor that drops them.
 */
import * as path from 'node:path';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry/lib/plugin';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Keeps each workflow's trace context storage disabled while it waits. Without an extension: the
 * bundler finds the compiled file in dist/ and the TypeScript one where tests run the sources.
 */
const IDLE_TRACE_CONTEXT_MODULE = path.join(__dirname, 'idle-trace-context');

/** For bundleWorkflowCode's workflowInterceptorModules (and the worker's, when it bundles the sources itself). */
export const WORKFLOW_TRACING_INTERCEPTOR_MODULES: string[] = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  IDLE_TRACE_CONTEXT_MODULE,
];

export interface SpanSink {
  resource: Resource;
  spanProcessor: SpanProcessor;
}

/**
 * For Worker.create's and Client's `plugins`: the client interceptor (trace
 * context into workflow headers), the activity interceptors (RunActivity
 * spans, active while the activity runs) and the sink of workflow spans.
 * Spans go to the global tracer provider; with none registered they are no-ops.
 */
export function temporalTracingPlugin(sink: SpanSink = DROPPING_SINK): OpenTelemetryPlugin {
  return new OpenTelemetryPlugin({ resource: sink.resource, spanProcessor: sink.spanProcessor });
}

const DROPPING_SINK: SpanSink = { resource: Resource.empty(), spanProcessor: new NoopSpanProcessor() };
