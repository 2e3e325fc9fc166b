/**
 * The seed's procedure, end to end over HTTP against the real gateway,
 * Temporal server, Kafka broker and inventory: A creates a transfer of a data
 * disk, looks at it, lists it, B accepts with the id and key, and the disk is
 * B's. Every step is on Kafka, in order, with deterministic ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { KafkaCollector } from '../support/kafka-collector';
import { Tenant } from '../support/tenants';

const CINDER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

describe('seed procedure: transfer a data disk from tenant A to tenant B', () => {
  let events: KafkaCollector;
  beforeAll(async () => {
    events = await KafkaCollector.start([TOPICS.lifecycle, TOPICS.apiAudit]);
  });
  afterAll(async () => {
    await events.stop();
  });

  it('creates, shows, lists, accepts, and moves ownership, publishing each step', async () => {
    const a = await Tenant.create('tenant-a');
    const b = await Tenant.create('tenant-b');
    const disk = await a.createDisk({ size: 20, name: 'data-1', volume_type: 'SAS' });
    expect(disk.status).toBe('available');

    // 1. A creates the transfer.
    const created = await a.createTransfer(disk.id, '  move data-1  ');
    expect(created.status).toBe(202);
    expect(created.headers.get('x-request-id')).toBeTruthy();
    const t = created.body.transfer;
    expect(Object.keys(t).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    expect(t.name).toBe('move data-1');
    expect(t.volume_id).toBe(disk.id);
    expect(t.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect(t.created_at).toMatch(CINDER_TIME);
    expect(t.links).toEqual([
      { href: expect.stringMatching(new RegExp(`/v2/${a.projectId}/os-volume-transfer/${t.id}$`)), rel: 'self' },
      { href: expect.stringMatching(new RegExp(`/${a.projectId}/os-volume-transfer/${t.id}$`)), rel: 'bookmark' },
    ]);
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');

    // 2. A looks at it, in both API versions, and lists it.
    const shown = await a.showTransfer(t.id);
    expect(shown.status).toBe(200);
    expect(Object.keys(shown.body.transfer).sort()).toEqual(['created_at', 'id', 'links', 'name', 'volume_id']);
    expect(shown.body.transfer.created_at).toBe(t.created_at);
    const shownV3 = await a.api('GET', `${a.transfers('v3')}/${t.id}`);
    expect(shownV3.status).toBe(200);
    expect(shownV3.body.transfer.links[0].href).toContain(`/v3/${a.projectId}/os-volume-transfer/${t.id}`);

    const list = await a.api('GET', a.transfers());
    expect(list.status).toBe(200);
    expect(list.body.transfers).toHaveLength(1);
    expect(Object.keys(list.body.transfers[0]).sort()).toEqual(['id', 'links', 'name', 'volume_id']);
    const detail = await a.api('GET', `${a.transfers()}/detail`);
    expect(detail.body.transfers.map((x: { id: string }) => x.id)).toEqual([t.id]);
    expect(Object.keys(detail.body.transfers[0]).sort()).toEqual(['created_at', 'id', 'links', 'name', 'volume_id']);

    // 3. B cannot see it, but accepts it with the id and key.
    expect((await b.api('GET', `${b.transfers()}/${t.id}`)).status).toBe(404);
    const accepted = await b.acceptTransfer(t.id, t.auth_key);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      transfer: { id: t.id, name: 'move data-1', volume_id: disk.id, links: expect.any(Array) },
    });

    // 4. The disk is B's, available, and no longer A's.
    const nowB = await b.disk(disk.id);
    expect(nowB?.status).toBe('available');
    expect(nowB?.['os-vol-tenant-attr:tenant_id']).toBe(b.projectId);
    expect(await a.disk(disk.id)).toBeNull();
    expect((await a.showTransfer(t.id)).status).toBe(404);
    expect((await a.api('GET', a.transfers())).body.transfers).toEqual([]);

    // 5. The lifecycle events arrived in order, keyed by disk, with deterministic ids.
    const acceptedEvent = await events.waitFor(
      (e) => e.type === CLOUD_EVENT_TYPES.TransferAccepted && e.subject === `transfers/${t.id}`,
    );
    const lifecycle = events.events.filter((e) => e.topic === TOPICS.lifecycle && e.subject === `transfers/${t.id}`);
    expect(lifecycle.map((e) => e.type)).toEqual([CLOUD_EVENT_TYPES.TransferCreated, CLOUD_EVENT_TYPES.TransferAccepted]);
    expect(lifecycle.map((e) => e.id)).toEqual([`${t.id}/created`, `${t.id}/accepted`]);
    expect(lifecycle.every((e) => e.key === disk.id && e.specversion === '1.0')).toBe(true);
    expect(acceptedEvent.data).toMatchObject({
      transfer_id: t.id,
      volume_id: disk.id,
      source_project_id: a.projectId,
      source_user_id: a.userId,
      destination_project_id: b.projectId,
      destination_user_id: b.userId,
      volume_size_gb: 20,
      volume_type: 'SAS',
    });

    // 6. One API audit record per mutating call, with actor, action and outcome.
    const audits = await Promise.all([
      events.waitFor((e) => e.type === CLOUD_EVENT_TYPES.ApiCallAudited && e.data.action === 'evs:transfers:create' && e.data.transfer_id === t.id),
      events.waitFor((e) => e.type === CLOUD_EVENT_TYPES.ApiCallAudited && e.data.action === 'evs:transfers:accept' && e.data.transfer_id === t.id),
    ]);
    expect(audits[0].data).toMatchObject({ actor_project_id: a.projectId, http_status: 202, outcome: 'success' });
    expect(audits[1].data).toMatchObject({ actor_project_id: b.projectId, http_status: 202, outcome: 'success' });
    expect(audits[1].data.request_id).toBe(accepted.headers.get('x-request-id'));

    // No event carries the key.
    expect(JSON.stringify(events.events)).not.toContain(t.auth_key);
  });
});
