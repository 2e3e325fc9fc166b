import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS_REFUSED_DURING_TRANSFER, type GuardedDiskOperation } from '../../../libs/domain/src/disk';
import { toCinderTimestamp } from '../../../libs/domain/src/ids';
import { InventoryClient, InventoryRequestError } from '../../../libs/inventory-client/src/inventory.client';
import type { CreateVolumeAttrs, VolumeView } from '../../../libs/inventory-client/src/inventory.wire';
import { createInventoryApp } from './inventory.app';

const NOW = Date.UTC(2026, 10, 28, 9, 29, 46, 743);

describe('inventory over HTTP', () => {
  let dir: string;
  let app: INestApplication;
  let baseUrl: string;
  let client: InventoryClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inventory-http-'));
    app = await createInventoryApp(
      { dbPath: path.join(dir, 'inventory.sqlite'), defaultQuota: { volumes: 20, gigabytes: 2000 }, clock: () => NOW },
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    client = new InventoryClient(baseUrl, { timeoutMs: 5000 });
  });

  afterAll(async () => {
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh project per test, so tests share the server but not their data. */
  const newProject = () => `proj-${randomUUID().slice(0, 8)}`;

  const createDisk = (projectId: string, attrs: Partial<CreateVolumeAttrs> = {}) =>
    client.createVolume(projectId, { size: 10, name: 'data', ...attrs });

  async function raw(method: string, url: string, body?: unknown, contentType = 'application/json') {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
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
    await client.setQuota(a, { gigabytes: 40 }, b);
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
});
