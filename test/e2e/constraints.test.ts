/**
 * Each row of the constraint table is refused at create with its own code,
 * and the refused disk is left exactly as it was.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, type ErrorName } from '../../libs/domain/src/errors';
import type { VolumeView } from '../../libs/inventory-client/src/inventory.wire';
import { call, Tenant } from '../support/tenants';

type Setup = (a: Tenant) => Promise<VolumeView>;

const rows: Array<[string, Setup, ErrorName]> = [
  ['status: attached', async (a) => { const d = await a.createDisk(); await a.inventory.attach(a.projectId, d.id, '0b6f3c4e-2f7d-4f0a-9a0c-1c2d3e4f5a6b'); return d; }, 'DiskStatusNotAvailable'],
  ['status: error', (a) => a.createDisk({ status: 'error' }), 'DiskStatusNotAvailable'],
  ['data disk only', (a) => a.createDisk({ bootable: true }), 'DiskIsSystemDisk'],
  ['encryption', (a) => a.createDisk({ encrypted: true }), 'DiskEncrypted'],
  ['snapshots', async (a) => { const d = await a.createDisk(); await a.inventory.createSnapshot(a.projectId, d.id); return d; }, 'DiskHasSnapshots'],
  ['backups', async (a) => { const d = await a.createDisk(); await a.inventory.createBackup(a.projectId, d.id); return d; }, 'DiskHasBackups'],
  ['backup policy', async (a) => { const d = await a.createDisk(); await a.inventory.setBackupPolicy(a.projectId, d.id, '5c1f0b7e-8d2a-4c3b-9e4f-a1b2c3d4e5f6'); return d; }, 'DiskHasBackupPolicy'],
  ['replication', (a) => a.createDisk({ replication_pair_id: '7d2e1c0b-9a8f-4e6d-8c5b-4a3f2e1d0c9b' }), 'DiskInReplicationPair'],
  ['billing', (a) => a.createDisk({ billing_mode: 'prepaid' }), 'DiskPrepaid'],
  ['frozen', (a) => a.createDisk({ frozen: true }), 'DiskFrozen'],
  ['dedicated storage: DSS', (a) => a.createDisk({ storage_kind: 'dss' }), 'DiskOnDedicatedStorage'],
  ['dedicated storage: DESS', (a) => a.createDisk({ storage_kind: 'dess' }), 'DiskOnDedicatedStorage'],
];

describe('disk constraints at create', () => {
  let a: Tenant;
  beforeAll(async () => {
    a = await Tenant.create('constraints');
  });

  it.each(rows)('refuses %s with its own code', async (_rule, setup, error) => {
    const disk = await setup(a);
    const before = await a.disk(disk.id);
    const res = await a.createTransfer(disk.id);
    expect(res.status).toBe(ERROR_CATALOGUE[error].status);
    expect(res.body.error.code).toBe(ERROR_CATALOGUE[error].code);
    expect(res.body.error.message).toBeTruthy();
    expect(await a.disk(disk.id)).toEqual(before);
    expect((await a.api('GET', a.transfers())).body.transfers.find((t: { volume_id: string }) => t.volume_id === disk.id)).toBeUndefined();
  });

  it('refuses a second transfer of a disk already in a pending one (409)', async () => {
    const disk = await a.createDisk();
    const first = await a.createTransfer(disk.id);
    expect(first.status).toBe(202);
    const second = await a.createTransfer(disk.id);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe(ERROR_CATALOGUE.DiskAlreadyInTransfer.code);
  });

  it("answers 404 for a disk that does not exist or is another project's", async () => {
    const other = await Tenant.create('other');
    const theirs = await other.createDisk();
    const res = await a.createTransfer(theirs.id);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('EVS.5404');
    expect((await other.disk(theirs.id))?.status).toBe('available');
    expect((await a.createTransfer('6f1d7c1e-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('refuses operations that would break the transfer while the disk awaits it', async () => {
    const disk = await a.createDisk();
    expect((await a.createTransfer(disk.id)).status).toBe(202);
    await expect(a.inventory.createSnapshot(a.projectId, disk.id)).rejects.toThrow();
    await expect(a.inventory.attach(a.projectId, disk.id, '0b6f3c4e-2f7d-4f0a-9a0c-1c2d3e4f5a6b')).rejects.toThrow();
    await expect(a.inventory.deleteVolume(a.projectId, disk.id)).rejects.toThrow();
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
  });
});

describe('bad input at create', () => {
  it.each([
    ['malformed JSON', '{"transfer": '],
    ['no transfer object', JSON.stringify({ volume_id: '6f1d7c1e-0000-4000-8000-000000000000' })],
    ['volume_id not a uuid', JSON.stringify({ transfer: { volume_id: 'disk-1' } })],
    ['unknown key', JSON.stringify({ transfer: { volume_id: '6f1d7c1e-0000-4000-8000-000000000000', colour: 'red' } })],
    ['empty name', JSON.stringify({ transfer: { volume_id: '6f1d7c1e-0000-4000-8000-000000000000', name: '   ' } })],
    ['name too long', JSON.stringify({ transfer: { volume_id: '6f1d7c1e-0000-4000-8000-000000000000', name: 'x'.repeat(256) } })],
  ])('answers 400 EVS.5400 to %s', async (_case, raw) => {
    const a = await Tenant.create('bad-input');
    const answer = await call('POST', a.transfers(), { token: a.token, rawBody: raw });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('EVS.5400');
  });
});
