/**
 * Create with an Idempotency-Key on the real stack: a retry is the same
 * transfer (one workflow, one lock, one `created` event) answered with the
 * same auth key, which then opens it; a retry asking for something else, or
 * arriving after the transfer ended, is told so.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../libs/contracts/src/events';
import { SEARCH_ATTRIBUTES } from '../../libs/temporal/src/transfer.definitions';
import { KafkaCollector } from '../support/kafka-collector';
import { testStack } from '../support/stack';
import { type ApiAnswer, Tenant } from '../support/tenants';

let events: KafkaCollector;
let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  events = await KafkaCollector.start([TOPICS.lifecycle]);
  const stack = testStack();
  connection = await Connection.connect({ address: stack.temporalAddress });
  temporal = new Client({ connection, namespace: stack.namespace });
});

afterAll(async () => {
  await events?.stop();
  await connection?.close();
});

function createWithKey(tenant: Tenant, volumeId: string, key: string, name: string | null = 'idem'): Promise<ApiAnswer> {
  return tenant.createTransfer(volumeId, name, { idempotencyKey: key });
}

/** Every run of the transfer's workflow, running or closed. */
async function runsOf(transferId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of temporal.workflow.list({ query: `WorkflowId = "evs-transfer-${transferId}"` })) runs.push(w.runId);
  return runs;
}

/** Every transfer workflow ever started for the disk, running or closed. */
async function workflowsForDisk(diskId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of temporal.workflow.list({ query: `${SEARCH_ATTRIBUTES.diskId.name} = "${diskId}"` })) ids.push(w.workflowId);
  return ids;
}

function lifecycleIds(transferId: string): string[] {
  return [...new Set(events.events.filter((e) => e.subject === `transfers/${transferId}`).map((e) => e.id))];
}

describe('create with an Idempotency-Key', () => {
  it('answers retries, sequential and concurrent, with the one transfer and its auth key, which the recipient can use', async () => {
    const a = await Tenant.create('idem-a');
    const b = await Tenant.create('idem-b');
    const disk = await a.createDisk();
    const key = `order-${disk.id}`;

    const first = await createWithKey(a, disk.id, key);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const retries = [await createWithKey(a, disk.id, key), ...(await Promise.all([1, 2, 3].map(() => createWithKey(a, disk.id, key))))];
    for (const retry of retries) {
      expect(retry.status, JSON.stringify(retry.body)).toBe(202);
      expect(retry.body).toEqual(first.body);
    }
    const transfer = first.body.transfer as { id: string; auth_key: string };

    expect(await workflowsForDisk(disk.id)).toEqual([`evs-transfer-${transfer.id}`]);
    expect((await a.listTransfers()).body.transfers.map((t: { id: string }) => t.id)).toEqual([transfer.id]);
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
    // Without the key, the disk is taken: the old behaviour.
    expect((await a.createTransfer(disk.id)).body.error.code).toBe('EVS.5409');

    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(202);
    expect((await b.disk(disk.id))?.['os-vol-tenant-attr:tenant_id']).toBe(b.projectId);
    await events.waitFor((e) => e.id === `${transfer.id}/accepted`);
    expect(lifecycleIds(transfer.id)).toEqual([`${transfer.id}/created`, `${transfer.id}/accepted`]);

    const late = await createWithKey(a, disk.id, key);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('EVS.5414');
    expect(late.body.error.message).toContain('(accepted)');
    expect(await runsOf(transfer.id)).toHaveLength(1);
  });

  it('refuses the key with another disk or another name (422), and leaves the first transfer alone', async () => {
    const a = await Tenant.create('idem-body');
    const disk = await a.createDisk();
    const other = await a.createDisk();
    const key = `body-${disk.id}`;
    const first = await createWithKey(a, disk.id, key, 'first');
    expect(first.status).toBe(202);

    for (const retry of [createWithKey(a, other.id, key, 'first'), createWithKey(a, disk.id, key, 'renamed'), createWithKey(a, disk.id, key, null)]) {
      const answer = await retry;
      expect(answer.status, JSON.stringify(answer.body)).toBe(422);
      expect(answer.body.error.code).toBe('EVS.5422');
    }
    expect((await a.disk(other.id))?.status).toBe('available');
    expect(await workflowsForDisk(other.id)).toEqual([]);
    expect((await a.showTransfer((first.body.transfer as { id: string }).id)).status).toBe(200);
  });

  it('gives the same key in another project a transfer of its own', async () => {
    const a = await Tenant.create('idem-p1');
    const c = await Tenant.create('idem-p2');
    const key = 'the-same-key-in-two-projects';
    const [mine, theirs] = await Promise.all([createWithKey(a, (await a.createDisk()).id, key), createWithKey(c, (await c.createDisk()).id, key)]);
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(mine.body.transfer.id).not.toBe(theirs.body.transfer.id);
    expect(mine.body.transfer.auth_key).not.toBe(theirs.body.transfer.auth_key);
  });

  it('repeats a refused create’s refusal, and tells a retry after a delete that the transfer ended', async () => {
    const a = await Tenant.create('idem-end');
    const encrypted = await a.createDisk({ encrypted: true });
    const refusals = [await createWithKey(a, encrypted.id, `enc-${encrypted.id}`)];
    // Asked again once the refused transfer's workflow has closed: the answer comes from its result.
    const [refusedWorkflow] = await workflowsForDisk(encrypted.id);
    await temporal.workflow.getHandle(refusedWorkflow).result();
    refusals.push(await createWithKey(a, encrypted.id, `enc-${encrypted.id}`));
    for (const refused of refusals) {
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('EVS.5453');
    }
    expect(await workflowsForDisk(encrypted.id)).toHaveLength(1);

    const disk = await a.createDisk();
    const created = await createWithKey(a, disk.id, `del-${disk.id}`);
    const transfer = created.body.transfer as { id: string };
    expect((await a.deleteTransfer(transfer.id)).status).toBe(202);
    const retry = await createWithKey(a, disk.id, `del-${disk.id}`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('EVS.5414');
    expect(retry.body.error.message).toContain('(deleted)');
    expect((await a.disk(disk.id))?.status).toBe('available');
    // A new key is a new transfer of the same disk.
    expect((await createWithKey(a, disk.id, `del2-${disk.id}`)).status).toBe(202);
  });

  it('refuses a malformed key with 400 before anything starts', async () => {
    const a = await Tenant.create('idem-bad');
    const disk = await a.createDisk();
    const answer = await createWithKey(a, disk.id, 'x'.repeat(256));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('EVS.5400');
    expect(await workflowsForDisk(disk.id)).toEqual([]);
  });
});
