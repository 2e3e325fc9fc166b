/**
 * The benchmark's HTTP client: node:http over one keep-alive agent (a
 * connection per client, as an SDK holds one), timing each call from the
 * request's start to the last byte of its answer.
 */
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface TimedAnswer {
  status: number;
  body: unknown;
  ms: number;
}

/** The `code` of an error answer ({"error": {"code", "message"}}), if it is one. */
export function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The id and auth key of a create's answer. */
export function createdTransfer(body: unknown): { id: string; authKey: string } {
  const transfer = (body as { transfer?: { id?: unknown; auth_key?: unknown } } | null)?.transfer;
  if (typeof transfer?.id !== 'string' || typeof transfer.auth_key !== 'string') {
    throw new Error(`a create's answer without id and auth_key: ${JSON.stringify(body)}`);
  }
  return { id: transfer.id, authKey: transfer.auth_key };
}

export class BenchHttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, token: string, body?: unknown): Promise<TimedAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { 'X-Auth-Token': token, Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const started = performance.now();
    return new Promise<TimedAnswer>((resolve, reject) => {
      const req = http.request(
        { host: this.base.hostname, port: this.base.port, path, method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              // Not JSON: kept as text, for the error message.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
