/**
 * The gateway as served (GatewayModule + configureGateway on a real socket)
 * against hostile input: bodies, ids, query strings, methods, raw bytes
 * Node's parser refuses, spoofable headers. The transfer workflows and Kafka
 * are stand-ins that record what reached them, so each test can tell that a
 * refused request went no further than the gateway.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTokenIssuer } from '../../../libs/auth/src/local-issuer';
import { type AppConfig, loadConfig } from '../../../libs/config/src/config';
import type { OutgoingRecord } from '../../../libs/contracts/src/events';
import type { EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { TransferReadModel } from '../../../libs/read-model/src/transfer-read-model';
import { MAX_BODY_BYTES } from './http/json-body.interceptor';
import { logSafe } from './http/http-error.filter';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { checkResponse } from './openapi/openapi.conformance';
import type { TransferWorkflows } from './temporal/transfer-workflows.port';
import { listenGateway } from './gateway.test-harness';

const PROJECT = 'project-h';
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VOLUME = '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e';
const TRANSFER = '6f1c2a4e-2b7d-4c1e-9a3f-5d8e7b6a4c21';
const doc = buildOpenApiDocument();

interface Gateway {
  url: string;
  config: AppConfig;
  workflows: { [K in keyof TransferWorkflows]: ReturnType<typeof vi.fn> };
  audit: OutgoingRecord[];
  close(): Promise<void>;
}

/** A gateway on an ephemeral port; `env` adds settings (e.g. GATEWAY_TRUSTED_PROXIES). */
async function startGateway(env: Record<string, string> = {}): Promise<Gateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-hostile-'));
  const config = loadConfig({ DATA_DIR: dir, GATEWAY_UPDATE_TIMEOUT_SECONDS: '2', LOG_LEVEL: 'silent', ...env });
  const workflows = {
    create: vi.fn(async (request: { transferId: string; createdAtMs: number }) => ({ transferId: request.transferId, createdAtMs: request.createdAtMs })),
    accept: vi.fn(async (transferId: string) => ({ transferId, volumeId: VOLUME, name: null })),
    delete: vi.fn(async () => undefined),
    forceDelete: vi.fn(async (transferId: string) => ({ transferId, volumeId: VOLUME, ownerProjectId: 'owner-project' })),
  };
  const audit: OutgoingRecord[] = [];
  const publisher: EventPublisher = { publish: async (records) => void audit.push(...records) };
  const { app, url } = await listenGateway(config, workflows, publisher);
  return {
    url,
    config,
    workflows,
    audit,
    close: async () => {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function send(gateway: Gateway, method: string, urlPath: string, init: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  const res = await fetch(`${gateway.url}${urlPath}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text for the assertion to show
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Sends bytes on a fresh connection, for requests no HTTP client would send; returns what came back. */
function sendRaw(gateway: Gateway, bytes: string | Buffer): Promise<string> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.headers.get('x-request-id')).toMatch(REQUEST_ID);
}

/** Nothing in an error body may name the gateway's insides. */
const INTERNALS = /\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d|\.js:\d|[A-Z][a-z]+Error\b|Exception\b|Temporal|Kafka|SQLITE|sqlite|grpc|Nest|Express|Cannot (GET|POST|PUT|DELETE)/;

let gateway: Gateway;
let token: string;
let issuer: LocalTokenIssuer;
const collection = `/v2/${PROJECT}/os-volume-transfer`;
const json = (value: unknown) => JSON.stringify(value);

function post(urlPath: string, body: string | Uint8Array, headers: Record<string, string> = { 'Content-Type': 'application/json' }) {
  return send(gateway, 'POST', urlPath, { headers: { 'X-Auth-Token': token, ...headers }, body });
}
const get = (urlPath: string, headers: Record<string, string> = {}) => send(gateway, 'GET', urlPath, { headers: { 'X-Auth-Token': token, ...headers } });

function expectNothingReachedTheWorkflows(): void {
  expect(gateway.workflows.create).not.toHaveBeenCalled();
  expect(gateway.workflows.accept).not.toHaveBeenCalled();
  expect(gateway.workflows.delete).not.toHaveBeenCalled();
}

beforeAll(async () => {
  gateway = await startGateway();
  issuer = LocalTokenIssuer.open(gateway.config.auth);
  token = await issuer.issueToken({ projectId: PROJECT, userId: 'mallory', roles: ['member'], ttlSeconds: 600 });
});

afterAll(async () => {
  await gateway?.close();
});

beforeEach(() => {
  vi.clearAllMocks();
});

describe('bodies', () => {
  it.each([
    ['an unknown top-level field', json({ transfer: { volume_id: VOLUME }, no_snapshots: true }), 'unknown field: no_snapshots'],
    ['an unknown field inside transfer', json({ transfer: { volume_id: VOLUME, size: 10 } }), 'transfer: unknown field: size'],
    ['a key given twice', `{"transfer": {"volume_id": "${VOLUME}"}, "transfer": {"volume_id": "${VOLUME}"}}`, 'twice'],
    ['a key given twice inside transfer', `{"transfer": {"volume_id": "not-a-uuid", "volume_id": "${VOLUME}"}}`, 'twice'],
    ['__proto__', `{"__proto__": {"isAdmin": true}, "transfer": {"volume_id": "${VOLUME}"}}`, 'unknown field: __proto__'],
    ['__proto__ inside transfer', `{"transfer": {"volume_id": "${VOLUME}", "__proto__": {"name": "x"}}}`, 'unknown field: __proto__'],
    ['constructor.prototype', `{"transfer": {"volume_id": "${VOLUME}"}, "constructor": {"prototype": {"isAdmin": true}}}`, 'constructor'],
    ['deep nesting', `{"transfer": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}`, 'nested'],
    ['a JSON number', '42', 'expected object'],
    ['a JSON string', '"transfer"', 'expected object'],
    ['JSON null', 'null', 'expected object'],
    ['a JSON array', `[{"transfer": {"volume_id": "${VOLUME}"}}]`, 'expected object'],
    ['a name with a line break', json({ transfer: { volume_id: VOLUME, name: 'a\r\nb' } }), 'control characters'],
    ['a name with a terminal escape', json({ transfer: { volume_id: VOLUME, name: '\u001b]0;owned\u0007' } }), 'control characters'],
    ['a name with a lone surrogate', `{"transfer": {"volume_id": "${VOLUME}", "name": "x\\ud800"}}`, 'transfer.name'],
  ])('refuses %s with 400 EVS.5400 and never reaches the workflow', async (_what, body, mentioned) => {
    const reply = await post(collection, body);
    expectError(reply, 400, 'EVS.5400');
    expect(reply.body.error.message).toContain(mentioned);
    expect(checkResponse(doc, 'createTransfer', reply)).toEqual([]);
    expectNothingReachedTheWorkflows();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('refuses unknown and duplicate fields in accept as well, without counting them', async () => {
    for (const body of [json({ accept: { auth_key: 'k' }, extra: 1 }), '{"accept": {"auth_key": "a", "auth_key": "b"}}']) {
      expectError(await post(`${collection}/${TRANSFER}/accept`, body), 400, 'EVS.5400');
    }
    expectNothingReachedTheWorkflows();
  });

  it('refuses bytes that are not UTF-8 instead of reading them as replacement characters', async () => {
    const body = Buffer.concat([Buffer.from(`{"transfer": {"volume_id": "${VOLUME}", "name": "`), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const reply = await post(collection, body);
    expectError(reply, 400, 'EVS.5400');
    expect(reply.body.error.message).toContain('UTF-8');
    expectNothingReachedTheWorkflows();
  });

  it('takes a body of exactly the limit and refuses one byte more, announced or streamed', async () => {
    const fill = (bytes: number) => {
      const bare = json({ transfer: { volume_id: VOLUME, name: 'n' } });
      return `${bare.slice(0, -1)}${' '.repeat(bytes - bare.length)}}`;
    };
    expect((await post(collection, fill(MAX_BODY_BYTES))).status).toBe(202);
    expectError(await post(collection, fill(MAX_BODY_BYTES + 1)), 400, 'EVS.5400');
    // Without Content-Length (chunked): counted as it arrives.
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i += 1) controller.enqueue(new Uint8Array(8192).fill(0x20));
        controller.close();
      },
    });
    const res = await fetch(`${gateway.url}${collection}`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: streamed,
      duplex: 'half',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'EVS.5400', message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` } });
    expect(gateway.workflows.create).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['text/json'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x'],
    ['application/json; charset=iso-8859-1'],
    ['application/json; charset=utf-16'],
    ['application/jsonx'],
  ])('refuses Content-Type %s', async (contentType) => {
    expectError(await post(collection, json({ transfer: { volume_id: VOLUME } }), { 'Content-Type': contentType }), 400, 'EVS.5400');
    expectNothingReachedTheWorkflows();
  });

  it('refuses a compressed body', async () => {
    const reply = await post(collection, json({ transfer: { volume_id: VOLUME } }), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expectError(reply, 400, 'EVS.5400');
  });
});

describe('ids and query parameters', () => {
  const malformedIds = [
    ['a word', 'not-a-uuid'],
    ['a UUID and one more character', `${TRANSFER}0`],
    ['4000 characters', 'x'.repeat(4000)],
    ['a NUL', '%00'],
    ['a path traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['a header injection', '%0D%0AX-Injected:%201'],
    ['SQL', "'%20OR%201=1--"],
    ['"detail" and more', 'detail%2F..'],
  ];

  it.each(malformedIds)('answers 404 to a transfer id that is %s on show, delete and accept, asking nothing of the workflows', async (_what, id) => {
    const idPath = `${collection}/${id}`;
    for (const reply of [
      await get(idPath),
      await send(gateway, 'DELETE', idPath, { headers: { 'X-Auth-Token': token } }),
      await post(`${idPath}/accept`, json({ accept: { auth_key: 'k' } })),
    ]) {
      expectError(reply, 404, 'EVS.5404');
    }
    expectNothingReachedTheWorkflows();
  });

  it.each(['/v2/%ZZ/os-volume-transfer', `${collection}/%C0%AF`, `${collection}/%FF%FE/accept`, `${collection}/${TRANSFER}%E2%82`, '/v3/%E0%A4%A'])(
    'answers 404 to a path that is not percent-encoded UTF-8 (%s), with or without a token',
    async (p) => {
      expectError(await get(p), 404, 'EVS.5404');
      expectError(await send(gateway, 'GET', p), 404, 'EVS.5404');
    },
  );

  it.each([
    ['5000 characters long', `/v2/${'p'.repeat(5000)}/os-volume-transfer`],
    ['the token’s and a header injection', '/v2/project-h%0D%0AX-Injected:1/os-volume-transfer'],
    ['the token’s behind a traversal', '/v2/..%2Fproject-h/os-volume-transfer'],
    ['the token’s in upper case', '/v2/PROJECT-H/os-volume-transfer'],
  ])('answers 403 when the path project is %s', async (_what, p) => {
      const reply = await get(p);
      expectError(reply, 403, 'EVS.5403');
      expect(checkResponse(doc, 'listTransfers', reply)).toEqual([]);
  });

  it('audits a refused call on a malformed path project without copying the segment', async () => {
    const reply = await post(`/v2/a%0D%0Ab${'z'.repeat(300)}/os-volume-transfer`, json({ transfer: { volume_id: VOLUME } }));
    expectError(reply, 403, 'EVS.5403');
    const requestId = reply.headers.get('x-request-id');
    await vi.waitFor(() => expect(gateway.audit.find((r) => r.event.id === `api/${requestId}`)).toBeDefined());
    const record = gateway.audit.find((r) => r.event.id === `api/${requestId}`)!;
    expect(record.event.data).toMatchObject({ path_project_id: null, actor_project_id: PROJECT, http_status: 403 });
    expect(JSON.stringify(record)).not.toContain('zzzz');
  });

  it.each(['limit=1&limit=2', 'offset=0&offset=0', 'limit=%FF', 'limit=1%00', 'limit=%EF%BC%91', 'limit=99999999999999999999', 'limit=1e3', 'offset=0x10', 'limit=+5'])(
    'refuses ?%s with 400 EVS.5400',
    async (query) => {
      const reply = await get(`${collection}/detail?${query}`);
      expectError(reply, 400, 'EVS.5400');
      expect(checkResponse(doc, 'listTransfersDetail', reply)).toEqual([]);
    },
  );

  it.each([
    'marker=xxxx…(6000 characters)',
    'sort=created_at:desc;DROP TABLE transfers',
    'marker=1&marker=2&sort=a&sort=b',
    'limit[]=5&offset[x]=1',
    '__proto__=1&constructor=2&hasOwnProperty=3',
    'all_tenants=1&project_id=other',
  ])('ignores parameters it does not apply (?%s), whatever they hold', async (query) => {
    const reply = await get(`${collection}?${query.replace('xxxx…(6000 characters)', 'x'.repeat(6000))}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ transfers: [] });
  });

  it('answers a request line and headers over Node’s limit in the error shape', async () => {
    const reply = await get(`${collection}?marker=${'x'.repeat(20_000)}`);
    expectError(reply, 400, 'EVS.5400');
    expect(reply.body.error.message).toContain('size limit');
  });
});

describe('errors say nothing of the internals', () => {
  const failures = [
    Object.assign(new Error('14 UNAVAILABLE: No connection established to 127.0.0.1:7233 at /work/main/node_modules/@grpc/grpc-js/build/src/call.js:31'), { name: 'ServiceError' }),
    Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' }),
    Object.assign(new Error('SQLITE_BUSY: database is locked (transfers.sqlite)'), { name: 'SqliteError' }),
    new TypeError("Cannot read properties of undefined (reading 'projectId')"),
  ];

  it.each(failures.map((f) => [f.name, f] as const))('answers an unexpected %s with 500 and the catalogue message only', async (_name, failure) => {
    gateway.workflows.create.mockRejectedValueOnce(failure);
    const reply = await post(collection, json({ transfer: { volume_id: VOLUME } }));
    expectError(reply, 500, 'EVS.5500');
    expect(reply.body.error.message).toBe('Internal error.');
    expect(reply.text).not.toMatch(INTERNALS);
  });

  it('logs an unexpected failure with the client’s bytes escaped, so a line break cannot forge a log line', async () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      gateway.workflows.create.mockRejectedValueOnce(new Error('boom\n[Nest] 1 - 01/01/2030 LOG [Gateway] forged line'));
      await post(`${collection}?x=%0D%0AFORGED`, json({ transfer: { volume_id: VOLUME } }));
      const line = logged.mock.calls.map((args) => String(args[0])).find((l) => l.includes('boom'));
      expect(line).toBeDefined();
      expect(line).toContain('%0D%0AFORGED');
      expect(line!.split('\n').slice(1).every((continuation) => continuation.startsWith('    | '))).toBe(true);
    } finally {
      logged.mockRestore();
    }
  });

  it('escapes control characters and bounds what it logs', () => {
    expect(logSafe('a\r\nb\u001b[31m\u2028')).toBe('a\\u000d\\u000ab\\u001b[31m\\u2028');
    expect(logSafe('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}…(40 more)`);
  });

  it.each(['/nothing', '/v2/project-h/volumes/x/y', '/v2/project-h/os-volume-transfer/x/y/z', '/docs/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/openapi.json/x'])(
    'answers unknown route %s with the standard 404 body only',
    async (p) => {
      const reply = await send(gateway, 'GET', p);
      expectError(reply, 404, 'EVS.5404');
      expect(reply.text).not.toMatch(INTERNALS);
      expect(reply.text).not.toContain(p);
    },
  );
});

describe('methods', () => {
  it.each([
    ['PUT', collection, 'GET, HEAD, POST'],
    ['PATCH', `${collection}/${TRANSFER}`, 'GET, HEAD, DELETE'],
    ['POST', `${collection}/${TRANSFER}`, 'GET, HEAD, DELETE'],
    ['GET', `${collection}/${TRANSFER}/accept`, 'POST'],
    ['DELETE', `${collection}/detail`, 'GET, HEAD'],
    ['POST', `${collection}/detail`, 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/', 'GET, HEAD'],
    ['PUT', '/v3/', 'GET, HEAD'],
    ['POST', '/openapi.json', 'GET, HEAD'],
    ['OPTIONS', collection, 'GET, HEAD, POST'],
  ])('answers %s %s with 405 and Allow: %s, before authentication', async (method, p, allow) => {
    const anonymous: Record<string, string> = {};
    for (const headers of [anonymous, { 'X-Auth-Token': token }]) {
      const reply = await send(gateway, method, p, { headers });
      expectError(reply, 405, 'EVS.5405');
      expect(reply.headers.get('allow')).toBe(allow);
    }
    expectNothingReachedTheWorkflows();
  });

  it('answers TRACE (which fetch will not send) with 405 too', async () => {
    const answer = await sendRaw(gateway, 'TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(answer).toMatch(/\r\nAllow: GET, HEAD\r\n/i);
    expect(answer).toContain('"code":"EVS.5405"');
  });

  it('answers HEAD wherever GET is served', async () => {
    const reply = await send(gateway, 'HEAD', collection, { headers: { 'X-Auth-Token': token } });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });
});

describe('requests Node cannot parse', () => {
  it.each([
    ['a bare CR in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rInjected: 1\r\n\r\n'],
    ['a control byte in the path', 'GET /heal\u0001thz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown method', 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a body framed two ways', 'POST /v2/p/os-volume-transfer HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['headers over the size limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['not HTTP at all', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003'],
  ])('answers %s with 400 in the error shape and a request id', async (_what, raw) => {
    const answer = await sendRaw(gateway, Buffer.from(raw, 'latin1'));
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toMatch(/\r\nX-Request-Id: req-[0-9a-f-]{36}\r\n/);
    expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    expect(JSON.parse(body)).toEqual({ error: { code: 'EVS.5400', message: expect.any(String) } });
    expect(body).not.toMatch(INTERNALS);
  });
});

describe('spoofable headers', () => {
  const auditOf = (gw: Gateway, requestId: string | null) => gw.audit.find((r) => r.event.id === `api/${requestId}`);

  it('never takes a client’s request id: not as the answer’s, the workflow call’s or the audit record’s', async () => {
    const chosen = `req-${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
    for (const header of ['X-Request-Id', 'X-OpenStack-Request-Id']) {
      vi.clearAllMocks();
      const reply = await post(collection, json({ transfer: { volume_id: VOLUME } }), { 'Content-Type': 'application/json', [header]: chosen });
      expect(reply.status).toBe(202);
      const requestId = reply.headers.get('x-request-id');
      expect(requestId).toMatch(REQUEST_ID);
      expect(requestId).not.toBe(chosen);
      expect(reply.headers.get('x-openstack-request-id')).toBe(requestId);
      expect(gateway.workflows.create.mock.calls[0][0].owner.requestId).toBe(requestId);
      await vi.waitFor(() => expect(auditOf(gateway, requestId)).toBeDefined());
      expect(JSON.stringify(gateway.audit)).not.toContain(chosen);
    }
  });

  it('does not echo or record a hostile request id anywhere', async () => {
    const hostile = `"}, "outcome": "success", "x": "${'y'.repeat(4000)}`;
    const reply = await post(collection, json({ transfer: { volume_id: VOLUME } }), { 'Content-Type': 'application/json', 'X-Request-Id': hostile });
    expect(reply.status).toBe(202);
    expect(JSON.stringify([...reply.headers])).not.toContain('yyyy');
    await vi.waitFor(() => expect(auditOf(gateway, reply.headers.get('x-request-id'))).toBeDefined());
    expect(JSON.stringify(gateway.audit)).not.toContain('yyyy');
  });

  it('records the TCP peer as the source, whatever X-Forwarded-For says, when no proxy is trusted', async () => {
    const reply = await post(collection, json({ transfer: { volume_id: VOLUME } }), { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.66' });
    await vi.waitFor(() => expect(auditOf(gateway, reply.headers.get('x-request-id'))).toBeDefined());
    expect(auditOf(gateway, reply.headers.get('x-request-id'))!.event.data).toMatchObject({ source_ip: '127.0.0.1' });
  });

  describe('behind a trusted proxy', () => {
    let proxied: Gateway;
    let proxiedToken: string;

    beforeAll(async () => {
      proxied = await startGateway({ GATEWAY_TRUSTED_PROXIES: '127.0.0.1/32' });
      proxiedToken = await LocalTokenIssuer.open(proxied.config.auth).issueToken({ projectId: PROJECT, userId: 'mallory', roles: ['member'], ttlSeconds: 600 });
    });

    afterAll(async () => {
      await proxied?.close();
    });

    it.each([
      ['the client the proxy appended', '198.51.100.1, 203.0.113.66', '203.0.113.66'],
      ['the proxy itself when the header is garbage', 'evil, <script>', '127.0.0.1'],
      ['the proxy itself when there is no header', undefined, '127.0.0.1'],
    ])('records %s', async (_what, forwarded, expected) => {
      const headers: Record<string, string> = { 'X-Auth-Token': proxiedToken, 'Content-Type': 'application/json' };
      if (forwarded !== undefined) headers['X-Forwarded-For'] = forwarded;
      const reply = await send(proxied, 'POST', collection, { headers, body: json({ transfer: { volume_id: VOLUME } }) });
      expect(reply.status).toBe(202);
      await vi.waitFor(() => expect(auditOf(proxied, reply.headers.get('x-request-id'))).toBeDefined());
      expect(auditOf(proxied, reply.headers.get('x-request-id'))!.event.data).toMatchObject({ source_ip: expected });
    });
  });
});

describe('the read model never sees a malformed id', () => {
  it('looks up only UUIDs', async () => {
    const readModel = await TransferReadModel.open(gateway.config.databases.readModel);
    const findPending = vi.spyOn(TransferReadModel.prototype, 'findPending');
    try {
      await get(`${collection}/${encodeURIComponent("x' OR '1'='1")}`);
      await send(gateway, 'DELETE', `${collection}/${'a'.repeat(300)}`, { headers: { 'X-Auth-Token': token } });
      expect(findPending).not.toHaveBeenCalled();
      await get(`${collection}/${TRANSFER.toUpperCase()}`);
      expect(findPending).toHaveBeenCalledWith(PROJECT, TRANSFER);
    } finally {
      findPending.mockRestore();
      await readModel.close();
    }
  });
});
