/**
 * The live inventory is not open: its internal API (the transfer steps)
 * refuses anyone without the service secret, and its tenant API keeps each
 * tenant to its own disks. That the worker, which signs, still moves disks is
 * what every other file here shows.
 */
import { describe, expect, it } from 'vitest';
import { harnessInventory } from '../support/inventory';
import { testStack } from '../support/stack';
import { call, Tenant } from '../support/tenants';

const inventory = () => ({ baseUrl: testStack().inventoryUrl });

describe('the inventory API is not open', () => {
  it('refuses the internal API without service credentials, even to a tenant with a valid token', async () => {
    const a = await Tenant.create('inv-int-a');
    const disk = await a.createDisk();
    const diskPath = `/internal/v1/disks/${disk.id}`;

    const anonymous = await call('GET', diskPath, inventory());
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ name: 'Unauthenticated', code: 'EVS.5401' });
    const withToken = await call('GET', diskPath, { ...inventory(), token: a.token });
    expect(withToken.status).toBe(401);

    const body = { project_id: a.projectId, transfer_id: '0b9d7c1a-5e4f-4a3b-8c2d-1e0f9a8b7c6d' };
    const lock = await call('POST', `${diskPath}/transfer-lock`, { ...inventory(), token: a.token, body });
    expect(lock.status).toBe(401);
    expect((await a.disk(disk.id))?.status).toBe('available');
    // With the stack's service secret, as the worker calls it, the same disk reads fine.
    expect((await harnessInventory().getDisk(disk.id))?.status).toBe('available');
  });

  it("keeps a tenant from another tenant's disk: 404 under its own project, 403 under the other's", async () => {
    const a = await Tenant.create('inv-ten-a');
    const b = await Tenant.create('inv-ten-b');
    const disk = await a.createDisk({ name: 'private' });

    expect(await b.inventory.showVolume(b.projectId, disk.id)).toBeNull();
    const underOwn = await call('GET', `/v3/${b.projectId}/volumes/${disk.id}`, { ...inventory(), token: b.token });
    expect(underOwn.status).toBe(404);
    expect(underOwn.body.error.code).toBe('EVS.5404');

    const underTheirs = await call('GET', `/v3/${a.projectId}/volumes/${disk.id}`, { ...inventory(), token: b.token });
    expect(underTheirs.status).toBe(403);
    expect(underTheirs.body.error).toMatchObject({ name: 'Forbidden', code: 'EVS.5403' });
    expect((await call('DELETE', `/v3/${a.projectId}/volumes/${disk.id}`, { ...inventory(), token: b.token })).status).toBe(403);
    expect((await call('GET', `/v3/${a.projectId}/volumes/${disk.id}`, inventory())).status).toBe(401);

    expect(await a.disk(disk.id)).toMatchObject({ name: 'private', status: 'available' });
  });
});
