/**
 * The other ways a transfer ends or is refused: delete, wrong keys and
 * lock-out, quota, tenant isolation and credentials.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/src/config';
import { CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { KafkaCollector } from '../support/kafka-collector';
import { testEnv } from '../support/stack';
import { call, Tenant } from '../support/tenants';

let events: KafkaCollector;
beforeAll(async () => {
  events = await KafkaCollector.start([TOPICS.lifecycle, TOPICS.securityAudit]);
});
afterAll(async () => {
  await events.stop();
});


describe('delete', () => {
  it('returns the disk to A, available, and the transfer is gone', async () => {
    const a = await Tenant.create('del-a');
    const { disk, transfer } = await a.pendingTransfer(15);
    const res = await a.deleteTransfer(transfer.id);
    expect(res.status).toBe(202);
    expect(res.body).toBeNull();
    const after = await a.disk(disk.id);
    expect(after?.status).toBe('available');
    expect(after?.['os-vol-tenant-attr:tenant_id']).toBe(a.projectId);
    expect((await a.showTransfer(transfer.id)).status).toBe(404);
    expect((await a.deleteTransfer(transfer.id)).status).toBe(404);
    const b = await Tenant.create('del-b');
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(404);
    const deleted = await events.waitFor((e) => e.id === `${transfer.id}/deleted`);
    expect(deleted.type).toBe(CLOUD_EVENT_TYPES.TransferDeleted);
    // The disk can be transferred again.
    expect((await a.createTransfer(disk.id)).status).toBe(202);
  });
});

describe('tenant isolation and credentials', () => {
  it('answers 404 to another tenant showing or deleting, and leaves the transfer alone', async () => {
    const a = await Tenant.create('iso-a');
    const c = await Tenant.create('iso-c');
    const { transfer } = await a.pendingTransfer(15);
    expect((await c.showTransfer(transfer.id)).status).toBe(404);
    const del = await c.deleteTransfer(transfer.id);
    expect(del.status).toBe(404);
    expect(del.body.error.code).toBe('EVS.5404');
    expect((await c.api('GET', c.transfers())).body.transfers).toEqual([]);
    expect((await a.showTransfer(transfer.id)).status).toBe(200);
  });

  it("requires the path project to be the token's (403), and a valid token (401)", async () => {
    const a = await Tenant.create('path-a');
    const c = await Tenant.create('path-c');
    const { transfer } = await a.pendingTransfer(15);
    const viaOtherPath = await call('GET', `/v2/${a.projectId}/os-volume-transfer/${transfer.id}`, { token: c.token });
    expect(viaOtherPath.status).toBe(403);
    expect(viaOtherPath.body.error.code).toBe('EVS.5403');
    const noToken = await call('GET', `/v2/${a.projectId}/os-volume-transfer`);
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe('EVS.5401');
    expect(noToken.headers.get('x-request-id')).toBeTruthy();
    const forged = `${a.token.slice(0, -4)}AAAA`;
    expect((await call('GET', `/v2/${a.projectId}/os-volume-transfer`, { token: forged })).status).toBe(401);
  });
});

describe('accept refusals', () => {
  it('refuses a wrong key with 400, counts it, and locks out after five (429 with Retry-After)', async () => {
    const a = await Tenant.create('key-a');
    const b = await Tenant.create('key-b');
    const { disk, transfer } = await a.pendingTransfer(15);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await b.acceptTransfer(transfer.id, '0000000000000000');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(ERROR_CATALOGUE.InvalidAuthKey.code);
      expect(res.body.error.message.toLowerCase()).toContain('invalid auth key');
    }
    const locked = await b.acceptTransfer(transfer.id, transfer.auth_key);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe(ERROR_CATALOGUE.TooManyFailedAttempts.code);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');

    const failures = await events.waitFor((e) => e.id === `${transfer.id}/accept_failed/5`);
    expect(failures.data).toMatchObject({ acting_project_id: b.projectId, reason: 'InvalidAuthKey', attempt: 5 });
    const lockout = await events.waitFor((e) => e.id === `${transfer.id}/locked_out/1`);
    expect(lockout.type).toBe(CLOUD_EVENT_TYPES.TransferLockedOut);
  });

  it('stops a project guessing across many transfers (429 EVS.5430), and only that project', async () => {
    const a = await Tenant.create('spray-a');
    const guesser = await Tenant.create('spray-guesser');
    const bystander = await Tenant.create('spray-bystander');
    const { disk, transfer } = await a.pendingTransfer(15);
    const { gateway } = loadConfig(testEnv());
    // Ids nobody holds: each is a 404 that counts against the guessing project.
    for (let i = 0; i < gateway.acceptCallerLimit.maxFailures; i++) {
      expect((await guesser.acceptTransfer(randomUUID(), '0000000000000000')).status).toBe(404);
    }
    const limited = await guesser.acceptTransfer(transfer.id, transfer.auth_key);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe(ERROR_CATALOGUE.CallerRateLimited.code);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(gateway.acceptCallerLimit.windowMs / 1000);
    // The refusal never reached the transfer: it is still pending and acceptable by someone else.
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
    expect((await bystander.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(202);
  });

  it('refuses the owner accepting its own transfer', async () => {
    const a = await Tenant.create('own-a');
    const { transfer } = await a.pendingTransfer(15);
    const res = await a.acceptTransfer(transfer.id, transfer.auth_key);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(ERROR_CATALOGUE.AcceptOwnTransfer.code);
  });

  it("answers 404 to an unknown transfer id", async () => {
    const b = await Tenant.create('unknown-b');
    expect((await b.acceptTransfer('6f1d7c1e-0000-4000-8000-000000000000', '0123456789abcdef')).status).toBe(404);
    expect((await b.acceptTransfer('not-a-uuid', '0123456789abcdef')).status).toBe(404);
  });

  it("leaves the transfer pending when the recipient's quota is full (413), and accepts once freed", async () => {
    const a = await Tenant.create('quota-a');
    const b = await Tenant.create('quota-b');
    const { disk, transfer } = await a.pendingTransfer(15);
    await b.inventory.setQuota(b.projectId, { gigabytes: 10 });
    const refused = await b.acceptTransfer(transfer.id, transfer.auth_key);
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('EVS.5413');
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
    expect((await a.showTransfer(transfer.id)).status).toBe(200);

    await b.inventory.setQuota(b.projectId, { gigabytes: 100 });
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(202);
    expect((await b.disk(disk.id))?.['os-vol-tenant-attr:tenant_id']).toBe(b.projectId);
  });
});

describe('lists', () => {
  it('pages in created order and refuses bad limits and offsets', async () => {
    const a = await Tenant.create('list-a');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await a.pendingTransfer(15)).transfer.id);
    const page = async (q: string) => (await a.api('GET', `${a.transfers()}/detail${q}`)).body.transfers.map((t: { id: string }) => t.id);
    expect(await page('')).toEqual(ids);
    expect(await page('?limit=2')).toEqual(ids.slice(0, 2));
    expect(await page('?limit=2&offset=2')).toEqual(ids.slice(2));
    for (const bad of ['?limit=0', '?limit=1001', '?limit=abc', '?offset=-1', '?offset=1.5']) {
      const res = await a.api('GET', `${a.transfers()}${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('EVS.5400');
    }
  });
});

