/**
 * Hostile input against the whole real stack: what the gateway refuses
 * leaves no trace behind it (the disk stays available, no workflow locked
 * it), and what a client can write into headers does not reach the audit
 * trail or the ids of the call (the audit record and the lifecycle event on
 * Kafka carry the gateway's own request id and the TCP peer).
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { KafkaCollector } from '../support/kafka-collector';
import { testStack } from '../support/stack';
import { call, Tenant } from '../support/tenants';

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Nothing in an error body may name the gateway's insides. */
const INTERNALS = /\bat [\w.<>]+ \(|node_modules|\.ts:\d|\.js:\d|[A-Z][a-z]+Error\b|Exception\b|Temporal|Kafka|SQLITE|sqlite|grpc|Nest|Express|Cannot (GET|POST|PUT|DELETE)/;

function sendRaw(bytes: string): Promise<string> {
  const { port } = new URL(testStack().gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(Buffer.from(bytes, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

describe('hostile input against the real stack', () => {
  let events: KafkaCollector;
  beforeAll(async () => {
    events = await KafkaCollector.start([TOPICS.lifecycle, TOPICS.apiAudit]);
  });
  afterAll(async () => {
    await events.stop();
  });

  it('refuses hostile bodies before anything locks the disk', async () => {
    const a = await Tenant.create('hostile');
    const disk = await a.createDisk();
    const bodies = [
      `{"transfer": {"volume_id": "${disk.id}"}, "transfer": {"volume_id": "${disk.id}"}}`,
      `{"transfer": {"volume_id": "${disk.id}", "__proto__": {"name": "x"}}}`,
      `{"transfer": {"volume_id": "${disk.id}"}, "constructor": {"prototype": {"admin": true}}}`,
      `{"transfer": {"volume_id": "${disk.id}", "no_snapshots": true}}`,
      `{"transfer": {"volume_id": "${disk.id}", "name": ${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
      `{"transfer": {"volume_id": "${disk.id}", "name": "\\u001b[2J"}}`,
      `[{"transfer": {"volume_id": "${disk.id}"}}]`,
    ];
    for (const rawBody of bodies) {
      const reply = await call('POST', a.transfers(), { token: a.token, rawBody });
      expect(reply.status, rawBody.slice(0, 80)).toBe(400);
      expect(reply.body.error.code).toBe('EVS.5400');
    }
    expect((await a.disk(disk.id))?.status).toBe('available');
    expect((await a.api('GET', a.transfers())).body.transfers).toEqual([]);
  });

  it('answers undeclared methods, undecodable paths, unknown routes and unparsable requests in the error shape, naming no internals', async () => {
    const a = await Tenant.create('hostile');
    const wrongMethod = await call('PUT', a.transfers(), { token: a.token, body: {} });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(wrongMethod.body.error.code).toBe('EVS.5405');

    for (const path of [`${a.transfers()}/%C0%AF`, '/v2/%ZZ/os-volume-transfer', '/nothing/here', `/v9/${a.projectId}/os-volume-transfer`]) {
      const reply = await call('GET', path, { token: a.token });
      expect(reply.status, path).toBe(404);
      expect(reply.body).toEqual({ error: { code: 'EVS.5404', message: expect.any(String) } });
      expect(JSON.stringify(reply.body)).not.toMatch(INTERNALS);
    }

    const answer = await sendRaw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rInjected: 1\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\nX-Request-Id: req-/);
    expect(answer).toContain('"code":"EVS.5400"');
    expect(answer).not.toMatch(INTERNALS);
  });

  it('keeps client-chosen request ids and X-Forwarded-For out of the ids and the audit trail', async () => {
    const a = await Tenant.create('spoof');
    const disk = await a.createDisk();
    const chosen = 'req-00000000-0000-4000-8000-000000000000';
    const created = await call('POST', a.transfers(), {
      token: a.token,
      body: { transfer: { volume_id: disk.id } },
      headers: { 'X-Request-Id': chosen, 'X-OpenStack-Request-Id': chosen, 'X-Forwarded-For': '203.0.113.66' },
    });
    expect(created.status).toBe(202);
    const requestId = created.headers.get('x-request-id');
    expect(requestId).toMatch(REQUEST_ID);
    expect(requestId).not.toBe(chosen);
    const transferId = created.body.transfer.id as string;

    const audit = await events.waitFor((e) => e.type === CLOUD_EVENT_TYPES.ApiCallAudited && e.id === `api/${requestId}`);
    expect(audit.data).toMatchObject({ request_id: requestId, source_ip: '127.0.0.1', path_project_id: a.projectId });
    const lifecycle = await events.waitFor((e) => e.type === CLOUD_EVENT_TYPES.TransferCreated && e.subject === `transfers/${transferId}`);
    expect(lifecycle.data).toMatchObject({ request_id: requestId });
    for (const event of [audit, lifecycle]) {
      expect(JSON.stringify(event)).not.toContain(chosen);
      expect(JSON.stringify(event)).not.toContain('203.0.113.66');
    }
  });
});
