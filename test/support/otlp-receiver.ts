/**
 * An OTLP/HTTP trace receiver for tests: what a collector's otlp receiver
 * does, minus everything else. It takes the JSON encoding the stack's
 * exporters send (POST /v1/traces), keeps the spans of recent traces in
 * memory, and answers GET /traces/{trace_id} with them, flattened.
 */
import { createServer, type Server } from 'node:http';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

/** Oldest traces are forgotten beyond this many. */
const MAX_TRACES = 5000;

export async function startOtlpReceiver(port: number, host = '127.0.0.1'): Promise<{ close(): Promise<void> }> {
  const traces = new Map<string, ReceivedSpan[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (req.method === 'POST' && url === '/v1/traces') {
        try {
          for (const span of flatten(JSON.parse(Buffer.concat(chunks).toString('utf8')))) {
            const spans = traces.get(span.traceId) ?? [];
            spans.push(span);
            traces.delete(span.traceId);
            traces.set(span.traceId, spans);
          }
          while (traces.size > MAX_TRACES) traces.delete(traces.keys().next().value as string);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch (error) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        }
        return;
      }
      const asked = /^\/traces\/([0-9a-f]{32})$/.exec(url);
      if (req.method === 'GET' && asked) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(traces.get(asked[1]) ?? []));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The spans the receiver holds for one trace. */
export async function receivedTrace(receiverUrl: string, traceId: string): Promise<ReceivedSpan[]> {
  const res = await fetch(`${receiverUrl}/traces/${traceId}`);
  if (!res.ok) throw new Error(`OTLP receiver answered ${res.status}`);
  return (await res.json()) as ReceivedSpan[];
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[];
  }[];
}

function flatten(request: OtlpRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = String(attributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: span.parentSpanId ? hex(span.parentSpanId) : '',
          name: span.name,
          kind: span.kind,
          service,
          attributes: attributes(span.attributes),
        });
      }
    }
  }
  return spans;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  return out;
}

/** OTLP/JSON says hex; some encoders send protobuf's base64 instead. */
function hex(id: string): string {
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex');
}
