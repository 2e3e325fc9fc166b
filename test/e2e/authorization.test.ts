/**
 * Roles on the real stack: what a reader, a token without roles and an
 * administrator may do, and what the administrator's reach into other
 * projects leaves on Kafka (the lifecycle event and the API audit record).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ACTIONS, CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { KafkaCollector } from '../support/kafka-collector';
import { type ApiAnswer, Tenant } from '../support/tenants';

let events: KafkaCollector;
beforeAll(async () => {
  events = await KafkaCollector.start([TOPICS.lifecycle, TOPICS.apiAudit]);
});
afterAll(async () => {
  await events.stop();
});


function expectPolicyRefusal(res: ApiAnswer, action: string): void {
  expect(res.status).toBe(403);
  expect(res.body.error.code).toBe('EVS.5403');
  expect(res.body.error.message).toContain(action);
}

/** Every page of the administrator's all-projects list, until the ids wanted are seen (other tests add transfers too). */
async function allProjectsListing(admin: Tenant, wanted: string[], detail = false): Promise<{ id: string; links: { href: string }[] }[]> {
  const seen: { id: string; links: { href: string }[] }[] = [];
  for (let offset = 0; ; offset += 1000) {
    const res = await admin.listTransfers({ detail, query: `all_tenants=1&limit=1000&offset=${offset}` });
    expect(res.status).toBe(200);
    seen.push(...res.body.transfers);
    if (res.body.transfers.length < 1000 || wanted.every((id) => seen.some((t) => t.id === id))) return seen;
  }
}

describe('a reader', () => {
  it('may list and show its project’s transfers but not create, accept or delete (403)', async () => {
    const a = await Tenant.create('authz-a');
    const b = await Tenant.create('authz-b');
    const { disk, transfer } = await a.pendingTransfer(12);
    const readerA = await a.withRoles(['reader']);
    const readerB = await b.withRoles(['reader']);

    expect((await readerA.listTransfers()).body.transfers.map((t: { id: string }) => t.id)).toEqual([transfer.id]);
    expect((await readerA.listTransfers({ detail: true, version: 'v3' })).status).toBe(200);
    expect((await readerA.showTransfer(transfer.id)).body.transfer.id).toBe(transfer.id);

    const other = await a.createDisk({ size: 5 });
    expectPolicyRefusal(await readerA.createTransfer(other.id), API_ACTIONS.create);
    expectPolicyRefusal(await readerA.deleteTransfer(transfer.id), API_ACTIONS.delete);
    expectPolicyRefusal(await readerB.acceptTransfer(transfer.id, transfer.auth_key), API_ACTIONS.accept);

    // Nothing happened: the transfer is still pending, the disks where they were.
    expect((await a.showTransfer(transfer.id)).status).toBe(200);
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
    expect((await a.disk(other.id))?.status).toBe('available');
    // And a member of B still can.
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(202);
    expect((await b.disk(disk.id))?.['os-vol-tenant-attr:tenant_id']).toBe(b.projectId);
  });
});

describe('a token without roles', () => {
  it('is refused everything with 403, reads included', async () => {
    const a = await Tenant.create('authz-none');
    const { transfer } = await a.pendingTransfer(12);
    const nobody = await a.withRoles([]);
    expectPolicyRefusal(await nobody.listTransfers(), API_ACTIONS.list);
    expectPolicyRefusal(await nobody.showTransfer(transfer.id), API_ACTIONS.get);
    expectPolicyRefusal(await nobody.deleteTransfer(transfer.id), API_ACTIONS.delete);
    expect((await a.showTransfer(transfer.id)).status).toBe(200);
  });
});

describe('an administrator', () => {
  it('lists every project’s transfers with all_tenants (v2 and v3, audited); a member asking for it gets its own', async () => {
    const a = await Tenant.create('authz-la');
    const b = await Tenant.create('authz-lb');
    const admin = await Tenant.create('authz-admin', { roles: ['admin'] });
    const ta = (await a.pendingTransfer(12)).transfer;
    const tb = (await b.pendingTransfer(12)).transfer;

    const summaries = await allProjectsListing(admin, [ta.id, tb.id]);
    const ours = summaries.filter((t) => t.id === ta.id || t.id === tb.id);
    expect(ours.map((t) => t.id)).toEqual([ta.id, tb.id]);
    expect(ours[1].links[0].href).toContain(`/v2/${b.projectId}/os-volume-transfer/${tb.id}`);
    const details = await allProjectsListing(admin, [ta.id, tb.id], true);
    expect(details.filter((t) => t.id === ta.id || t.id === tb.id)).toHaveLength(2);
    expect((await admin.listTransfers({ version: 'v3', query: 'all_tenants=true&limit=1' })).status).toBe(200);

    // Without all_tenants, the administrator's own project only.
    expect((await admin.listTransfers()).body.transfers).toEqual([]);

    // A tenant asking for every project gets its own, as from Cinder (cinderclient's find() always asks).
    const own = await a.listTransfers({ query: 'all_tenants=1' });
    expect(own.status).toBe(200);
    expect(own.body.transfers.map((t: { id: string }) => t.id)).toEqual([ta.id]);
    const ownDetail = await (await a.withRoles(['reader'])).listTransfers({ detail: true, query: 'all_tenants=1' });
    expect(ownDetail.body.transfers.map((t: { id: string }) => t.id)).toEqual([ta.id]);

    const audit = await events.waitFor(
      (e) => e.topic === TOPICS.apiAudit && e.data.action === API_ACTIONS.listAllProjects && e.data.actor_project_id === admin.projectId,
    );
    expect(audit.data).toMatchObject({ actor_user_id: admin.userId, outcome: 'success', http_status: 200 });
  });

  it('force-deletes another project’s pending transfer: the disk is its owner’s again, and both trails name the administrator', async () => {
    const a = await Tenant.create('authz-fa');
    const b = await Tenant.create('authz-fb');
    const admin = await Tenant.create('authz-fadmin', { roles: ['admin'] });
    const { disk, transfer } = await a.pendingTransfer(12);

    // A member cannot, not even on its own transfer.
    expectPolicyRefusal(await a.forceDeleteTransfer(transfer.id), API_ACTIONS.forceDelete);
    // An administrator's plain DELETE stays a tenant delete: another project's transfer is not its to see.
    expect((await admin.deleteTransfer(transfer.id)).status).toBe(404);

    const res = await admin.forceDeleteTransfer(transfer.id);
    expect(res.status).toBe(202);
    expect(res.body).toBeNull();

    const after = await a.disk(disk.id);
    expect(after?.status).toBe('available');
    expect(after?.['os-vol-tenant-attr:tenant_id']).toBe(a.projectId);
    expect((await a.showTransfer(transfer.id)).status).toBe(404);
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(404);
    // Exactly one ending: a second force-delete finds nothing to delete.
    expect((await admin.forceDeleteTransfer(transfer.id)).status).toBe(404);

    const deleted = await events.waitFor((e) => e.id === `${transfer.id}/deleted`);
    expect(deleted.type).toBe(CLOUD_EVENT_TYPES.TransferDeleted);
    expect(deleted.data).toMatchObject({
      source_project_id: a.projectId,
      deleted_by_project_id: admin.projectId,
      deleted_by_user_id: admin.userId,
      request_id: res.headers.get('x-request-id'),
      forced: true,
    });
    const audit = await events.waitFor((e) => e.id === `api/${res.headers.get('x-request-id')}`);
    expect(audit.topic).toBe(TOPICS.apiAudit);
    expect(audit.data).toMatchObject({
      action: API_ACTIONS.forceDelete,
      actor_project_id: admin.projectId,
      actor_user_id: admin.userId,
      path_project_id: admin.projectId,
      transfer_id: transfer.id,
      volume_id: disk.id,
      outcome: 'success',
      http_status: 202,
    });
    expect(events.events.filter((e) => e.subject === `transfers/${transfer.id}` && e.topic === TOPICS.lifecycle).map((e) => e.type)).toEqual([
      CLOUD_EVENT_TYPES.TransferCreated,
      CLOUD_EVENT_TYPES.TransferDeleted,
    ]);

    // The disk can be transferred again by its owner.
    expect((await a.createTransfer(disk.id)).status).toBe(202);
  });
});
