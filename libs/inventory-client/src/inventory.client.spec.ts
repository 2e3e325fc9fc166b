/**
 * How the client sorts answers it cannot take as outcomes. The inventory
 * itself never answers like this, so a small stand-in server plays the
 * broken or misrouted cases; inventory.http.spec.ts covers the real server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceRequestVerifier } from '../../auth/src/service-signature';
import { InventoryClient, inventoryRoute, InventoryRequestError, InventoryUnavailableError, type InventoryCall } from './inventory.client';

type Reply = { status: number; body: string; delayMs?: number };

describe('InventoryClient failure handling', () => {
  let server: http.Server;
  let baseUrl: string;
  let next: Reply = { status: 200, body: '{}' };
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }));
      const reply = next;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      }, reply.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const lockArgs = () => ({ diskId: randomUUID(), projectId: 'p1', transferId: randomUUID() });
  const error = (name: string, code = 'EVS.5404') => JSON.stringify({ error: { name, code, message: 'm' } });

  it('tells its observer of each call by method, route template and status, 0 for no answer', async () => {
    const calls: InventoryCall[] = [];
    const observe = (call: InventoryCall) => calls.push(call);
    // The answered call with the default timeout: a loaded machine may take more than the short one to answer.
    next = { status: 503, body: error('DependencyUnavailable', 'EVS.5503') };
    await expect(new InventoryClient(baseUrl, { observe }).reassign({ diskId: 'd-1', transferId: 't-1', toProjectId: 'p2' })).rejects.toBeInstanceOf(
      InventoryUnavailableError,
    );
    next = { status: 200, body: '{}', delayMs: 300 };
    await expect(new InventoryClient(baseUrl, { observe, timeoutMs: 100 }).getDisk('d-2')).rejects.toBeInstanceOf(InventoryUnavailableError);
    expect(calls).toEqual([
      { method: 'POST', route: '/internal/v1/disks/{disk_id}/reassign', status: 503, seconds: expect.any(Number) },
      { method: 'GET', route: '/internal/v1/disks/{disk_id}', status: 0, seconds: expect.any(Number) },
    ]);
    expect(calls[1].seconds).toBeGreaterThanOrEqual(0.09);
  });

  it('throws InventoryUnavailableError on a 5xx, so the activity is retried', async () => {
    next = { status: 503, body: error('DependencyUnavailable', 'EVS.5503') };
    await expect(new InventoryClient(baseUrl).lockForTransfer(lockArgs())).rejects.toBeInstanceOf(
      InventoryUnavailableError,
    );
  });

  it('throws InventoryUnavailableError when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(new InventoryClient(`http://127.0.0.1:${port}`).getDisk(randomUUID())).rejects.toBeInstanceOf(
      InventoryUnavailableError,
    );
  });

  it('throws InventoryUnavailableError on timeout', async () => {
    next = { status: 200, body: '{}', delayMs: 500 };
    const started = Date.now();
    await expect(new InventoryClient(baseUrl, { timeoutMs: 100 }).getDisk(randomUUID())).rejects.toBeInstanceOf(
      InventoryUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('throws InventoryUnavailableError when a 200 does not match the contract', async () => {
    next = { status: 200, body: JSON.stringify({ disk: { id: 'x' } }) };
    await expect(new InventoryClient(baseUrl).getDisk(randomUUID())).rejects.toBeInstanceOf(InventoryUnavailableError);
    next = { status: 200, body: 'not json' };
    await expect(new InventoryClient(baseUrl).getDisk(randomUUID())).rejects.toBeInstanceOf(InventoryUnavailableError);
  });

  it('does not take a route 404 (wrong base URL) for a verdict on the disk', async () => {
    next = { status: 404, body: error('NotFound') };
    const client = new InventoryClient(baseUrl);
    await expect(client.lockForTransfer(lockArgs())).rejects.toBeInstanceOf(InventoryRequestError);
    await expect(client.getDisk(randomUUID())).rejects.toBeInstanceOf(InventoryRequestError);
  });

  it('takes a refusal as an outcome only with the status it belongs to', async () => {
    const client = new InventoryClient(baseUrl);
    next = { status: 422, body: error('DiskFrozen', 'EVS.5459') };
    expect(await client.lockForTransfer(lockArgs())).toEqual({ ok: false, reason: 'DiskFrozen' });
    next = { status: 409, body: error('DiskFrozen', 'EVS.5459') };
    await expect(client.lockForTransfer(lockArgs())).rejects.toBeInstanceOf(InventoryRequestError);
    next = { status: 413, body: error('QuotaExceeded', 'EVS.5413') };
    await expect(client.lockForTransfer(lockArgs())).rejects.toBeInstanceOf(InventoryRequestError);
    expect(await client.reassign({ diskId: randomUUID(), transferId: randomUUID(), toProjectId: 'p2' })).toEqual({
      ok: false,
      reason: 'QuotaExceeded',
    });
  });

  it('signs transfer steps as sent and gives a tenant call the token of the project it names', async () => {
    const secret = randomBytes(32);
    const client = new InventoryClient(`${baseUrl}/`, { serviceSecret: secret, tenantToken: (projectId) => `token-of-${projectId}` });
    next = { status: 200, body: JSON.stringify({ released: false, disk: null }) };
    seen.length = 0;
    await client.releaseTransferLock({ diskId: randomUUID(), transferId: randomUUID() });
    next = { status: 200, body: JSON.stringify({ volumes: [] }) };
    await client.listVolumes('p-7', { limit: 5 });

    const [step, tenant] = seen;
    const verifier = new ServiceRequestVerifier(secret);
    const [stepPath = '', stepQuery = ''] = (step?.url ?? '').split('?');
    const received = { method: step?.method ?? '', path: stepPath, query: stepQuery, headers: step?.headers ?? {} };
    await expect(verifier.verify({ ...received, body: () => Promise.resolve(step?.body ?? Buffer.alloc(0)) })).resolves.toBe(true);
    expect(step?.headers['x-auth-token']).toBeUndefined();
    expect(tenant).toMatchObject({ url: '/v3/p-7/volumes?limit=5', headers: { 'x-auth-token': 'token-of-p-7' } });
    expect(tenant?.headers.authorization).toBeUndefined();
  });
});

describe('inventoryRoute', () => {
  it('names each endpoint by its template, whatever the ids and the query', () => {
    expect(inventoryRoute('/internal/v1/disks/d-1%2F2/reassign')).toBe('/internal/v1/disks/{disk_id}/reassign');
    expect(inventoryRoute('/internal/v1/disks/abc')).toBe('/internal/v1/disks/{disk_id}');
    expect(inventoryRoute('/internal/v1/disks/abc/transfer-lock/release')).toBe('/internal/v1/disks/{disk_id}/transfer-lock/release');
    expect(inventoryRoute('/internal/v1/projects/p1/volumes?limit=10&offset=0')).toBe('/internal/v1/projects/{project_id}/volumes');
    expect(inventoryRoute('/internal/v1/transfer-locks?marker=x')).toBe('/internal/v1/transfer-locks');
    expect(inventoryRoute('/v3/p1/volumes/detail?limit=1')).toBe('/v3/{project_id}/volumes/detail');
    expect(inventoryRoute('/v3/p1/volumes/v9')).toBe('/v3/{project_id}/volumes/{volume_id}');
    expect(inventoryRoute('/v3/p1/os-quota-sets/p2')).toBe('/v3/{project_id}/os-quota-sets/{target_project_id}');
    expect(inventoryRoute('/healthz')).toBe('/healthz');
  });
});
