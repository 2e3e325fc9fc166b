import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJwtTokenVerifier, type JwtKeySettings } from '../../../libs/auth/src/jwt-verifier.setup';
import { LocalTokenIssuer } from '../../../libs/auth/src/local-issuer';
import { signServiceRequest } from '../../../libs/auth/src/service-signature';
import { OPERATIONS_REFUSED_DURING_TRANSFER, type GuardedDiskOperation } from '../../../libs/domain/src/disk';
import { isProjectId, toCinderTimestamp } from '../../../libs/domain/src/ids';
import { InventoryClient, InventoryRequestError } from '../../../libs/inventory-client/src/inventory.client';
import type { CreateVolumeAttrs, VolumeView } from '../../../libs/inventory-client/src/inventory.wire';
import { createInventoryApp } from './inventory.app';

const NOW = Date.UTC(2026, 10, 28, 9, 29, 46, 743);

/**
 * Whose credentials a raw request carries: 'auto' is what a legitimate caller
 * of that route sends, `signWith` a service signature under that secret,
 * `headers` exactly these.
 */
type Sender = 'auto' | 'nobody' | { signWith: Buffer } | { headers: Record<string, string> };

describe('inventory over HTTP', () => {
  let dir: string;
  let app: INestApplication;
  let baseUrl: string;
  let client: InventoryClient;
  let issuer: LocalTokenIssuer;
  const serviceSecret = randomBytes(32);
  const logged: string[] = [];

  /** Everything the app logs, to check that no credential ever reaches a log line. */
  const capturingLogger: LoggerService = {
    log: (message: unknown) => logged.push(String(message)),
    error: (message: unknown, ...rest: unknown[]) => logged.push([message, ...rest].map(String).join(' ')),
    warn: (message: unknown) => logged.push(String(message)),
    debug: (message: unknown) => logged.push(String(message)),
    verbose: (message: unknown) => logged.push(String(message)),
    fatal: (message: unknown) => logged.push(String(message)),
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inventory-http-'));
    const keys: JwtKeySettings = {
      jwtPublicKeyFile: path.join(dir, 'keys', 'jwt-public.pem'),
      jwtPrivateKeyFile: path.join(dir, 'keys', 'jwt-private.pem'),
      jwtIssuer: 'test-issuer',
      jwtAudience: 'evs',
      clockSkewSeconds: 30,
      jwks: null,
    };
    // The verifier comes first, as in main.ts: it creates the local issuer's keys the tokens below are signed with.
    const tokenVerifier = openJwtTokenVerifier(keys);
    issuer = LocalTokenIssuer.open(keys);
    app = await createInventoryApp(
      {
        store: { target: { dialect: 'sqlite', file: path.join(dir, 'inventory.sqlite') }, defaultQuota: { volumes: 20, gigabytes: 2000 }, clock: () => NOW },
        auth: { serviceSecret, tokenVerifier },
      },
      { logger: capturingLogger },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    client = new InventoryClient(baseUrl, { timeoutMs: 5000, serviceSecret, tenantToken: (projectId) => tokenFor(projectId) });
  });

  afterAll(async () => {
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tokenFor = (projectId: string, roles = ['member']) =>
    issuer.issueToken({ projectId, userId: 'u-1', roles, ttlSeconds: 600 });

  /** A fresh project per test, so tests share the server but not their data. */
  const newProject = () => `proj-${randomUUID().slice(0, 8)}`;

  const createDisk = (projectId: string, attrs: Partial<CreateVolumeAttrs> = {}) =>
    client.createVolume(projectId, { size: 10, name: 'data', ...attrs });

  /**
   * 'auto' signs internal routes with the service secret and sends tenant
   * routes the token of the path's project (some valid project's when the
   * path's is malformed: authentication comes before the format check).
   */
  async function credentialHeaders(sender: Sender, method: string, url: string, payload: string | undefined): Promise<Record<string, string>> {
    const [pathPart = url, query = ''] = url.split('?');
    const sign = (secret: Buffer) => ({ authorization: signServiceRequest(secret, { method, path: pathPart, query, body: payload ?? '' }) });
    if (sender === 'nobody') return {};
    if (sender !== 'auto') return 'headers' in sender ? sender.headers : sign(sender.signWith);
    if (url.startsWith('/internal/')) return sign(serviceSecret);
    const project = /^\/v3\/([^/]+)\//.exec(url)?.[1];
    if (project === undefined) return {};
    return { 'x-auth-token': await tokenFor(isProjectId(project) ? project : 'p1') };
  }

  async function raw(method: string, url: string, body?: unknown, contentType = 'application/json', sender: Sender = 'auto') {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { 'content-type': contentType, ...(await credentialHeaders(sender, method, url, payload)) },
      body: payload,
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), text };
  }

  interface RefusalSeen {
    status: number;
    name: string | null;
    code: string | null;
  }

  async function refusalOf(call: Promise<unknown>): Promise<RefusalSeen> {
    try {
      await call;
    } catch (err) {
      if (err instanceof InventoryRequestError) return { status: err.status, name: err.errorName, code: err.code };
      throw err;
    }
    throw new Error('expected a refusal');
  }

  it('answers the health check', async () => {
    expect(await raw('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await client.isHealthy()).toBe(true);
  });

  it('creates and shows a volume in the Cinder shape, only to its project', async () => {
    const project = newProject();
    const created = await createDisk(project, { size: 40, volume_type: 'SAS' });
    const expected: VolumeView = {
      id: created.id,
      name: 'data',
      status: 'available',
      size: 40,
      volume_type: 'SAS',
      bootable: 'false',
      encrypted: false,
      'os-vol-tenant-attr:tenant_id': project,
      project_id: project,
      billing_mode: 'postpaid',
      frozen: false,
      storage_kind: 'shared',
      backup_policy_id: null,
      replication_pair_id: null,
      attachments: [],
      snapshot_count: 0,
      backup_count: 0,
      created_at: toCinderTimestamp(NOW),
      updated_at: toCinderTimestamp(NOW),
    };
    expect(created).toStrictEqual(expected);
    expect(await client.showVolume(project, created.id)).toStrictEqual(expected);
    expect(await client.showVolume(newProject(), created.id)).toBeNull();
    expect(created.created_at).toBe('2026-11-28T09:29:46.743000');

    const server = randomUUID();
    await client.attach(project, created.id, server);
    expect((await client.showVolume(project, created.id))?.attachments).toEqual([
      { id: created.id, volume_id: created.id, server_id: server },
    ]);
  });

  it('lists a project page by page, summary and detail', async () => {
    const project = newProject();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createDisk(project, { id: randomUUID() })).id);
    const all = await client.listVolumes(project);
    expect(new Set(all.map((v) => v.id))).toEqual(new Set(ids));
    expect(Object.keys(all[0] ?? {}).sort()).toEqual(['id', 'name']);
    const firstPage = await client.listVolumesDetail(project, { limit: 2 });
    const secondPage = await client.listVolumesDetail(project, { limit: 2, offset: 2 });
    expect([...firstPage, ...secondPage].map((v) => v.id)).toEqual(all.map((v) => v.id));
  });

  it('runs a whole transfer: lock, refuse tenant operations, reassign, idempotent retries', async () => {
    const [a, b] = [newProject(), newProject()];
    const disk = await createDisk(a, { size: 25 });
    const transferId = randomUUID();

    const locked = await client.lockForTransfer({ diskId: disk.id, projectId: a, transferId });
    expect(locked).toMatchObject({ ok: true, disk: { status: 'awaiting-transfer', transferId, projectId: a } });
    expect(await client.lockForTransfer({ diskId: disk.id, projectId: a, transferId })).toStrictEqual(locked);
    expect(await client.lockForTransfer({ diskId: disk.id, projectId: a, transferId: randomUUID() })).toStrictEqual({
      ok: false,
      reason: 'DiskAlreadyInTransfer',
    });
    expect(await refusalOf(client.attach(a, disk.id, randomUUID()))).toEqual({
      status: 409,
      name: 'DiskBusy',
      code: 'EVS.5411',
    });

    const moved = await client.reassign({ diskId: disk.id, transferId, toProjectId: b });
    expect(moved).toMatchObject({ ok: true, disk: { projectId: b, status: 'available', transferId: null } });
    expect(await client.reassign({ diskId: disk.id, transferId, toProjectId: b })).toStrictEqual(moved);

    expect(await client.showVolume(a, disk.id)).toBeNull();
    expect((await client.showVolume(b, disk.id))?.['os-vol-tenant-attr:tenant_id']).toBe(b);
    expect((await client.getQuota(a)).volumes.in_use).toBe(0);
    expect(await client.getQuota(b)).toMatchObject({ volumes: { in_use: 1 }, gigabytes: { in_use: 25 } });
  });

  it('refuses each constraint with 422 and the rule in the name', async () => {
    const project = newProject();
    const cases: [Partial<CreateVolumeAttrs>, string, string][] = [
      [{ status: 'error' }, 'DiskStatusNotAvailable', 'EVS.5451'],
      [{ bootable: true }, 'DiskIsSystemDisk', 'EVS.5452'],
      [{ encrypted: true }, 'DiskEncrypted', 'EVS.5453'],
      [{ backup_policy_id: randomUUID() }, 'DiskHasBackupPolicy', 'EVS.5456'],
      [{ replication_pair_id: randomUUID() }, 'DiskInReplicationPair', 'EVS.5457'],
      [{ billing_mode: 'prepaid' }, 'DiskPrepaid', 'EVS.5458'],
      [{ frozen: true }, 'DiskFrozen', 'EVS.5459'],
      [{ storage_kind: 'dess' }, 'DiskOnDedicatedStorage', 'EVS.5460'],
    ];
    for (const [attrs, name, code] of cases) {
      const disk = await createDisk(project, attrs);
      const transferId = randomUUID();
      const body = { project_id: project, transfer_id: transferId };
      const answer = await raw('POST', `/internal/v1/disks/${disk.id}/transfer-lock`, body);
      expect({ name, status: answer.status, body: answer.body }).toMatchObject({
        name,
        status: 422,
        body: { error: { name, code } },
      });
      expect(await client.lockForTransfer({ diskId: disk.id, projectId: project, transferId })).toEqual({
        ok: false,
        reason: name,
      });
    }
  });

  it('sees snapshots and backups through the constraints', async () => {
    const project = newProject();
    const disk = await createDisk(project);
    const snapshot = await client.createSnapshot(project, disk.id, 'before');
    expect(snapshot).toMatchObject({ volume_id: disk.id, name: 'before', size: 10, status: 'available' });
    expect(await client.getDisk(disk.id)).toMatchObject({ snapshotCount: 1, backupCount: 0 });
    const lock = () => client.lockForTransfer({ diskId: disk.id, projectId: project, transferId: randomUUID() });
    expect(await lock()).toEqual({ ok: false, reason: 'DiskHasSnapshots' });
    expect(await refusalOf(client.deleteVolume(project, disk.id))).toEqual({
      status: 400,
      name: 'DiskHasSnapshots',
      code: 'EVS.5454',
    });
    await client.deleteSnapshot(project, snapshot.id);

    const backup = await client.createBackup(project, disk.id);
    expect(await lock()).toEqual({ ok: false, reason: 'DiskHasBackups' });
    await client.deleteBackup(project, backup.id);
    expect(await refusalOf(client.deleteBackup(project, backup.id))).toMatchObject({ status: 404, name: 'NotFound' });
    expect((await lock()).ok).toBe(true);
  });

  it('hides a disk of another project and reports unknown disks', async () => {
    const disk = await createDisk(newProject());
    const stranger = newProject();
    expect(await client.lockForTransfer({ diskId: disk.id, projectId: stranger, transferId: randomUUID() })).toEqual({
      ok: false,
      reason: 'DiskNotFound',
    });
    expect(await client.getDisk(randomUUID())).toBeNull();
    const unknown = { diskId: randomUUID(), transferId: randomUUID(), toProjectId: newProject() };
    expect(await client.reassign(unknown)).toEqual({ ok: false, reason: 'DiskNotFound' });
  });

  it('releases only for the holder, idempotently', async () => {
    const project = newProject();
    const disk = await createDisk(project);
    const holder = randomUUID();
    await client.lockForTransfer({ diskId: disk.id, projectId: project, transferId: holder });

    const stranger = await client.releaseTransferLock({ diskId: disk.id, transferId: randomUUID() });
    expect(stranger).toMatchObject({ released: false, disk: { status: 'awaiting-transfer', transferId: holder } });

    const released = await client.releaseTransferLock({ diskId: disk.id, transferId: holder });
    expect(released).toMatchObject({
      released: true,
      disk: { status: 'available', projectId: project, transferId: null },
    });
    const again = await client.releaseTransferLock({ diskId: disk.id, transferId: holder });
    expect(again).toMatchObject({ released: false });
    expect(await client.releaseTransferLock({ diskId: randomUUID(), transferId: holder })).toEqual({
      released: false,
      disk: null,
    });
  });

  it("refuses a reassign beyond the recipient's quota with 413 and changes nothing", async () => {
    const [a, b] = [newProject(), newProject()];
    const disk = await createDisk(a, { size: 50 });
    const transferId = randomUUID();
    await client.lockForTransfer({ diskId: disk.id, projectId: a, transferId });
    await client.setQuota(b, { gigabytes: 40 });
    const before = await client.getDisk(disk.id);

    const body = { transfer_id: transferId, to_project_id: b };
    const answer = await raw('POST', `/internal/v1/disks/${disk.id}/reassign`, body);
    expect(answer).toMatchObject({ status: 413, body: { error: { name: 'QuotaExceeded', code: 'EVS.5413' } } });
    expect(await client.reassign({ diskId: disk.id, transferId, toProjectId: b })).toEqual({
      ok: false,
      reason: 'QuotaExceeded',
    });
    expect(await client.getDisk(disk.id)).toStrictEqual(before);
    expect((await client.getQuota(b)).gigabytes).toEqual({ limit: 40, in_use: 0, reserved: 0 });

    await client.setQuota(b, { gigabytes: -1 });
    expect((await client.reassign({ diskId: disk.id, transferId, toProjectId: b })).ok).toBe(true);
  });

  it('answers TransferNotHoldingDisk with 409 to a transfer without the lock', async () => {
    const project = newProject();
    const disk = await createDisk(project);
    const [transferId, toProjectId] = [randomUUID(), newProject()];
    const body = { transfer_id: transferId, to_project_id: toProjectId };
    const answer = await raw('POST', `/internal/v1/disks/${disk.id}/reassign`, body);
    expect(answer).toMatchObject({ status: 409, body: { error: { name: 'TransferNotHoldingDisk' } } });
    const outcome = await client.reassign({ diskId: disk.id, transferId, toProjectId });
    expect(outcome).toEqual({ ok: false, reason: 'TransferNotHoldingDisk' });
  });

  it('lists every transfer lock page by page, in disk id order, naming the transfer that holds it', async () => {
    const project = newProject();
    const disks = await Promise.all([0, 1, 2].map(() => createDisk(project)));
    const holders = new Map<string, string>();
    for (const disk of disks) {
      const transferId = randomUUID();
      holders.set(disk.id, transferId);
      await client.lockForTransfer({ diskId: disk.id, projectId: project, transferId });
    }
    const unlocked = await createDisk(project);

    // Other tests' locks share the server: walk every page and pick ours out.
    const walk = async () => {
      const seen: { id: string; transferId: string | null; status: string }[] = [];
      let marker: string | null = null;
      let pages = 0;
      do {
        const page = await client.listTransferLocks({ limit: 2, marker });
        expect(page.disks.length).toBeLessThanOrEqual(2);
        seen.push(...page.disks);
        marker = page.nextMarker;
        pages += 1;
      } while (marker !== null && pages < 1000);
      expect(marker).toBeNull();
      return seen;
    };
    const seen = await walk();
    expect(seen.map((d) => d.id)).toEqual([...seen.map((d) => d.id)].sort());
    expect(seen.every((d) => d.status === 'awaiting-transfer' && d.transferId !== null)).toBe(true);
    const ours = seen.filter((d) => holders.has(d.id));
    expect(ours.map((d) => d.id)).toEqual([...holders.keys()].sort());
    expect(ours.every((d) => d.transferId === holders.get(d.id))).toBe(true);
    expect(seen.some((d) => d.id === unlocked.id)).toBe(false);

    const [first] = disks;
    await client.releaseTransferLock({ diskId: first.id, transferId: holders.get(first.id)! });
    expect((await walk()).some((d) => d.id === first.id)).toBe(false);

    const answer = await raw('GET', `/internal/v1/transfer-locks?limit=1000&marker=${seen.at(-1)!.id}`);
    expect(answer).toMatchObject({ status: 200, body: { disks: [], next_marker: null } });
  });

  it('refuses every guarded tenant operation with 409 DiskBusy while awaiting transfer', async () => {
    const project = newProject();
    const disk = await createDisk(project);
    await client.lockForTransfer({ diskId: disk.id, projectId: project, transferId: randomUUID() });
    const calls: Record<GuardedDiskOperation, () => Promise<unknown>> = {
      attach: () => client.attach(project, disk.id, randomUUID()),
      delete: () => client.deleteVolume(project, disk.id),
      extend: () => client.extend(project, disk.id, 20),
      snapshot: () => client.createSnapshot(project, disk.id),
      backup: () => client.createBackup(project, disk.id),
      'set-backup-policy': () => client.setBackupPolicy(project, disk.id, null),
      encrypt: () => client.setEncryption(project, disk.id, true),
      'change-billing': () => client.changeBilling(project, disk.id, 'prepaid'),
    };
    for (const operation of OPERATIONS_REFUSED_DURING_TRANSFER) {
      expect({ operation, ...(await refusalOf(calls[operation]())) }).toEqual({
        operation,
        status: 409,
        name: 'DiskBusy',
        code: 'EVS.5411',
      });
    }
    expect(await client.getDisk(disk.id)).toMatchObject({ status: 'awaiting-transfer', sizeGb: 10, encrypted: false });
  });

  it("refuses a create beyond the project's quota with 413", async () => {
    const project = newProject();
    await client.setQuota(project, { volumes: 1 });
    await createDisk(project);
    expect(await refusalOf(createDisk(project))).toEqual({ status: 413, name: 'QuotaExceeded', code: 'EVS.5413' });
  });

  describe('input validation', () => {
    const volumeId = randomUUID();

    it.each([
      ['an unknown key', 'POST', '/v3/p1/volumes', { volume: { size: 1, colour: 'red' } }],
      ['an unknown top-level key', 'POST', '/v3/p1/volumes', { volume: { size: 1 }, extra: true }],
      ['a size below 1', 'POST', '/v3/p1/volumes', { volume: { size: 0 } }],
      ['a bad volume id', 'GET', '/v3/p1/volumes/not-a-uuid', undefined],
      ['a bad project id', 'GET', `/v3/p%2F1/volumes/${volumeId}`, undefined],
      ['a bad target project id', 'GET', '/v3/p1/os-quota-sets/bad%20id', undefined],
      ['two actions at once', 'POST', `/v3/p1/volumes/${volumeId}/action`, { 'os-detach': {}, 'os-extend': {} }],
      ['an unknown action', 'POST', `/v3/p1/volumes/${volumeId}/action`, { 'os-reboot': {} }],
      ['a bad snapshot volume id', 'POST', '/v3/p1/snapshots', { snapshot: { volume_id: 'x' } }],
      ['a lock without transfer id', 'POST', `/internal/v1/disks/${volumeId}/transfer-lock`, { project_id: 'p1' }],
      ['a bad disk id', 'GET', '/internal/v1/disks/abc', undefined],
      ['a lock list marker that is no disk id', 'GET', '/internal/v1/transfer-locks?marker=abc', undefined],
      ['a lock list limit of 0', 'GET', '/internal/v1/transfer-locks?limit=0', undefined],
      ['a lock list limit above 1000', 'GET', '/internal/v1/transfer-locks?limit=1001', undefined],
    ])('answers 400 EVS.5400 to %s', async (_what, method, url, body) => {
      const answer = await raw(method, url, body);
      expect(answer).toMatchObject({ status: 400, body: { error: { name: 'BadRequest', code: 'EVS.5400' } } });
    });

    it('answers 400 to malformed JSON and to a missing body, without a stack trace', async () => {
      const broken = await raw('POST', '/v3/p1/volumes', '{"volume": {"size": 1,');
      const message = 'The request body is not valid JSON.';
      expect(broken).toMatchObject({ status: 400, body: { error: { name: 'BadRequest', message } } });
      expect(broken.text).not.toMatch(/at .*\.js|node_modules/);
      const plain = await raw('POST', '/v3/p1/volumes', 'size=1', 'text/plain');
      expect(plain).toMatchObject({ status: 400, body: { error: { name: 'BadRequest' } } });
    });

    it('answers 404 NotFound to an unknown route', async () => {
      expect(await raw('GET', '/v2/nothing')).toMatchObject({
        status: 404,
        body: { error: { name: 'NotFound', code: 'EVS.5404' } },
      });
    });

    it('makes the client throw, not answer an outcome, for a malformed transfer step', async () => {
      const call = client.lockForTransfer({ diskId: randomUUID(), projectId: 'p1', transferId: 'not-a-uuid' });
      expect(await refusalOf(call)).toEqual({ status: 400, name: 'BadRequest', code: 'EVS.5400' });
    });
  });

  describe('credentials', () => {
    const UNAUTHENTICATED = { status: 401, body: { error: { name: 'Unauthenticated', code: 'EVS.5401' } } };
    const FORBIDDEN = { status: 403, body: { error: { name: 'Forbidden', code: 'EVS.5403' } } };

    it('leaves the health check open', async () => {
      expect(await raw('GET', '/healthz', undefined, undefined, 'nobody')).toMatchObject({ status: 200 });
    });

    it('answers 401 on the internal API without service credentials, also to a valid tenant token', async () => {
      const project = newProject();
      const disk = await createDisk(project);
      const url = `/internal/v1/disks/${disk.id}`;
      expect(await raw('GET', url, undefined, undefined, 'nobody')).toMatchObject(UNAUTHENTICATED);
      const tenant = { headers: { 'x-auth-token': await tokenFor(project) } };
      expect(await raw('GET', url, undefined, undefined, tenant)).toMatchObject(UNAUTHENTICATED);
      const lock = { project_id: project, transfer_id: randomUUID() };
      expect(await raw('POST', `${url}/transfer-lock`, lock, undefined, tenant)).toMatchObject(UNAUTHENTICATED);
      expect(await raw('GET', '/internal/v1/transfer-locks', undefined, undefined, 'nobody')).toMatchObject(UNAUTHENTICATED);
      expect(await raw('GET', '/internal/v1/transfer-locks', undefined, undefined, tenant)).toMatchObject(UNAUTHENTICATED);
      expect(await refusalOf(new InventoryClient(baseUrl).listTransferLocks())).toMatchObject({ status: 401 });
      expect(await refusalOf(new InventoryClient(baseUrl).getDisk(disk.id))).toEqual({
        status: 401,
        name: 'Unauthenticated',
        code: 'EVS.5401',
      });
      expect((await client.showVolume(project, disk.id))?.status).toBe('available');
    });

    it('answers 401 to a signature under another secret, and changes nothing', async () => {
      const project = newProject();
      const disk = await createDisk(project);
      const impostor = new InventoryClient(baseUrl, { serviceSecret: randomBytes(32) });
      const lock = impostor.lockForTransfer({ diskId: disk.id, projectId: project, transferId: randomUUID() });
      expect(await refusalOf(lock)).toEqual({ status: 401, name: 'Unauthenticated', code: 'EVS.5401' });
      expect((await client.getDisk(disk.id))?.status).toBe('available');
    });

    it('refuses a signed request that was altered, is stale or is sent a second time', async () => {
      const project = newProject();
      const disk = await createDisk(project);
      const url = `/internal/v1/disks/${disk.id}/transfer-lock`;
      const body = JSON.stringify({ project_id: project, transfer_id: randomUUID() });
      const signed = (parts: { path?: string; body?: string; nowMs?: number }) => ({
        headers: {
          authorization: signServiceRequest(
            serviceSecret,
            { method: 'POST', path: parts.path ?? url, query: '', body: parts.body ?? body },
            { nowMs: parts.nowMs },
          ),
        },
      });
      const otherTransfer = JSON.stringify({ project_id: project, transfer_id: randomUUID() });
      expect(await raw('POST', url, body, undefined, signed({ body: otherTransfer }))).toMatchObject(UNAUTHENTICATED);
      const otherDisk = `/internal/v1/disks/${randomUUID()}/transfer-lock`;
      expect(await raw('POST', url, body, undefined, signed({ path: otherDisk }))).toMatchObject(UNAUTHENTICATED);
      const tenMinutesAgo = Date.now() - 10 * 60_000;
      expect(await raw('POST', url, body, undefined, signed({ nowMs: tenMinutesAgo }))).toMatchObject(UNAUTHENTICATED);
      // The secret itself is no credential: it is never sent, only used to sign.
      const bearer = { headers: { authorization: `Bearer ${serviceSecret.toString('hex')}` } };
      expect(await raw('POST', url, body, undefined, bearer)).toMatchObject(UNAUTHENTICATED);
      expect((await client.getDisk(disk.id))?.status).toBe('available');

      const once = signed({});
      expect(await raw('POST', url, body, undefined, once)).toMatchObject({ status: 200 });
      expect(await raw('POST', url, body, undefined, once)).toMatchObject(UNAUTHENTICATED);
    });

    it('logs why a service signature failed, never the credentials', async () => {
      const bearer = `Bearer ${serviceSecret.toString('hex')}`;
      const impostor = signServiceRequest(randomBytes(32), { method: 'GET', path: '/internal/v1/disks/x', query: '', body: '' });
      await raw('GET', `/internal/v1/disks/${randomUUID()}`, undefined, undefined, { headers: { authorization: bearer } });
      await raw('GET', `/internal/v1/disks/${randomUUID()}`, undefined, undefined, { headers: { authorization: impostor } });
      await raw('GET', `/internal/v1/disks/${randomUUID()}`);
      const log = logged.join('\n');
      expect(log).toContain('signature does not match');
      for (const secret of [serviceSecret.toString('hex'), serviceSecret.toString('base64'), impostor.slice(-64)]) {
        expect(log).not.toContain(secret);
      }
    });

    it('does not let service credentials into the tenant API', async () => {
      const project = newProject();
      await createDisk(project);
      const answer = await raw('GET', `/v3/${project}/volumes`, undefined, undefined, { signWith: serviceSecret });
      expect(answer).toMatchObject(UNAUTHENTICATED);
    });

    it('answers 401 on the tenant API without a valid token', async () => {
      const project = newProject();
      const disk = await createDisk(project);
      const url = `/v3/${project}/volumes/${disk.id}`;
      const foreignKey = path.join(dir, 'foreign');
      const foreignIssuer = LocalTokenIssuer.open({
        jwtPublicKeyFile: path.join(foreignKey, 'public.pem'),
        jwtPrivateKeyFile: path.join(foreignKey, 'private.pem'),
        jwtIssuer: 'test-issuer',
        jwtAudience: 'evs',
      });
      const forged = await foreignIssuer.issueToken({ projectId: project, userId: 'mallory', roles: ['member'], ttlSeconds: 600 });
      expect(await raw('GET', url, undefined, undefined, 'nobody')).toMatchObject({
        ...UNAUTHENTICATED,
        body: { error: { message: 'Credentials are missing: send an X-Auth-Token.' } },
      });
      expect(await raw('GET', url, undefined, undefined, { headers: { 'x-auth-token': 'not-a-jwt' } })).toMatchObject(UNAUTHENTICATED);
      expect(await raw('GET', url, undefined, undefined, { headers: { 'x-auth-token': forged } })).toMatchObject(UNAUTHENTICATED);
      expect(await raw('DELETE', url, undefined, undefined, { headers: { 'x-auth-token': forged } })).toMatchObject(UNAUTHENTICATED);
      expect((await client.showVolume(project, disk.id))?.status).toBe('available');
    });

    it("answers 403 to a token of another project than the path's, and 404 for another project's disk", async () => {
      const [a, b] = [newProject(), newProject()];
      const disk = await createDisk(a);
      const asB = { headers: { 'x-auth-token': await tokenFor(b) } };

      expect(await raw('GET', `/v3/${a}/volumes/${disk.id}`, undefined, undefined, asB)).toMatchObject(FORBIDDEN);
      expect(await raw('GET', `/v3/${a}/volumes`, undefined, undefined, asB)).toMatchObject(FORBIDDEN);
      expect(await raw('DELETE', `/v3/${a}/volumes/${disk.id}`, undefined, undefined, asB)).toMatchObject(FORBIDDEN);
      expect(await raw('POST', `/v3/${a}/volumes`, { volume: { size: 1 } }, undefined, asB)).toMatchObject(FORBIDDEN);

      const notFound = { status: 404, body: { error: { name: 'DiskNotFound', code: 'EVS.5404' } } };
      expect(await raw('GET', `/v3/${b}/volumes/${disk.id}`, undefined, undefined, asB)).toMatchObject(notFound);
      expect(await client.showVolume(b, disk.id)).toBeNull();
      expect(await refusalOf(client.deleteVolume(b, disk.id))).toMatchObject({ status: 404, name: 'DiskNotFound' });
      expect(await refusalOf(client.extend(b, disk.id, 20))).toMatchObject({ status: 404, name: 'DiskNotFound' });
      expect(await refusalOf(client.createSnapshot(b, disk.id))).toMatchObject({ status: 404, name: 'DiskNotFound' });
      expect(await client.listVolumes(b)).toEqual([]);

      expect(await refusalOf(client.getQuota(b, a))).toMatchObject({ status: 403, name: 'Forbidden' });
      expect(await refusalOf(client.setQuota(b, { volumes: 0 }, a))).toMatchObject({ status: 403, name: 'Forbidden' });

      expect(await client.showVolume(a, disk.id)).toMatchObject({ status: 'available', size: 10, snapshot_count: 0 });
      expect((await client.listVolumes(a)).map((v) => v.id)).toEqual([disk.id]);
      expect((await client.getQuota(a)).volumes.limit).toBe(20);
    });

    it('lets a reader token read its project and change nothing', async () => {
      const project = newProject();
      const disk = await createDisk(project);
      const reader = new InventoryClient(baseUrl, { tenantToken: (p) => tokenFor(p, ['reader']) });
      expect((await reader.showVolume(project, disk.id))?.id).toBe(disk.id);
      expect((await reader.listVolumesDetail(project)).map((v) => v.id)).toEqual([disk.id]);
      expect((await reader.getQuota(project)).volumes.in_use).toBe(1);

      const writes: [string, () => Promise<unknown>][] = [
        ['create', () => reader.createVolume(project, { size: 1 })],
        ['extend', () => reader.extend(project, disk.id, 20)],
        ['delete', () => reader.deleteVolume(project, disk.id)],
        ['snapshot', () => reader.createSnapshot(project, disk.id)],
        ['quota', () => reader.setQuota(project, { volumes: 100 })],
      ];
      for (const [write, call] of writes) {
        expect({ write, ...(await refusalOf(call())) }).toEqual({ write, status: 403, name: 'Forbidden', code: 'EVS.5403' });
      }
      expect(await client.showVolume(project, disk.id)).toMatchObject({ size: 10, snapshot_count: 0, status: 'available' });
      expect((await client.listVolumes(project)).length).toBe(1);
    });
  });
});
