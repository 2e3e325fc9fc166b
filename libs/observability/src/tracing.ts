/**
 * Turns OpenTelemetry tracing on for this process when an OTLP endpoint is
 * configured, by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off again; OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER and OTEL_BSP_* are read by the SDK itself).
 *
 * Off, nothing is registered: every span the code makes is the API's no-op,
 * which costs a function call. On, spans leave in batches from a bounded
 * queue on a timer, so a collector that is slow or down costs dropped spans,
 * never a slower or failed API call.
 *
 * Spans are made by hand at each hop (HTTP in and out, Temporal's
 * interceptors, Kafka records) rather than by monkey-patching instrumentation:
 * NestJS 12 is ESM-only and a require hook never sees its Express, and hand-made
 * spans name exactly the route templates and topics the metrics use.
 */
import { diag, DiagLogLevel, trace, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  /** True when spans are exported. */
  readonly enabled: boolean;
  readonly resource: Resource;
  /** Where Temporal's workflow spans (made in the sandbox, shipped out by a sink) join this process's own. */
  readonly spanProcessor: SpanProcessor;
  /** Sends what is still queued; call once, at shutdown. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Whether the environment asks for traces to be exported. */
export function tracingWanted(env: Env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim().toLowerCase());
  if (!exporters.includes('otlp')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

let started: Tracing | null = null;

/**
 * Once per process, before the first span is made. `serviceName` is the
 * resource's service.name unless OTEL_SERVICE_NAME says otherwise.
 */
export function startTracing(serviceName: string, env: Env = process.env, warn: (line: string) => void = defaultWarn): Tracing {
  if (started !== null) return started;
  const resource = new Resource({
    'service.name': env.OTEL_SERVICE_NAME?.trim() || serviceName,
    'service.namespace': 'evs-disk-transfer',
    'service.instance.id': `${serviceName}-${process.pid}`,
  });
  if (!tracingWanted(env)) {
    started = { enabled: false, resource, spanProcessor: new NoopSpanProcessor(), shutdown: async () => undefined };
    return started;
  }
  // The exporter's own failures (collector down, refused) are logged once in a while, not per batch.
  diag.setLogger(throttledDiagLogger(warn), DiagLogLevel.WARN);
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // W3C trace context and baggage, and an AsyncLocalStorage context manager.
  provider.register();
  started = {
    enabled: true,
    resource,
    spanProcessor,
    shutdown: async () => {
      await provider.shutdown().catch(() => undefined);
    },
  };
  return started;
}

/** The tracer for spans this project makes itself. */
export function evsTracer() {
  return trace.getTracer('evs-disk-transfer');
}

function defaultWarn(line: string): void {
  process.stderr.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), component: 'tracing', msg: line })}\n`);
}

const DIAG_QUIET_MS = 60_000;

function throttledDiagLogger(warn: (line: string) => void): DiagLogger {
  let lastAt = -Infinity;
  let suppressed = 0;
  const say = (message: string, args: unknown[]) => {
    const now = Date.now();
    if (now - lastAt < DIAG_QUIET_MS) {
      suppressed += 1;
      return;
    }
    const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a))).join(' ');
    warn(`trace export: ${message}${detail ? ` ${detail}` : ''}${suppressed > 0 ? ` (${suppressed} more since the last)` : ''}`);
    lastAt = now;
    suppressed = 0;
  };
  const quiet = () => undefined;
  return { error: (m, ...a) => say(m, a), warn: (m, ...a) => say(m, a), info: quiet, debug: quiet, verbose: quiet };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
