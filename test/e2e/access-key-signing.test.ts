/**
 * Huawei AK/SK request signing against the real stack: keys made with the
 * access-keys command, requests signed by an independent signer
 * (test/support/sdk-signer.ts), the whole transfer procedure over signed
 * calls only, and each way a signature can fail answered 401 EVS.5401 with
 * one message, whatever the failure.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { createAccessKey, listAccessKeys, revokeAccessKey, type TestAccessKey } from '../support/access-keys';
import { signRequest } from '../support/sdk-signer';
import { testStack } from '../support/stack';
import { type ApiAnswer, call, Tenant, uniqueProjectId } from '../support/tenants';

interface SignedCallOptions {
  body?: unknown;
  /** Sent instead of the signed body. */
  sendBody?: string;
  date?: Date;
  /** Signs with this secret instead of the key's. */
  secretKey?: string;
  projectHeader?: string;
}

async function signed(key: TestAccessKey, method: string, path: string, options: SignedCallOptions = {}): Promise<ApiAnswer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const extra: Record<string, string> = { 'x-project-id': options.projectHeader ?? key.projectId };
  if (body !== undefined) extra['content-type'] = 'application/json;charset=UTF-8';
  const headers = signRequest({
    method,
    url: `${testStack().gatewayUrl}${path}`,
    key: { accessKeyId: key.accessKeyId, secretKey: options.secretKey ?? key.secretKey },
    body,
    headers: extra,
    date: options.date,
  });
  return call(method, path, { headers, rawBody: options.sendBody ?? body });
}

const transfers = (projectId: string) => `/v2/${projectId}/os-volume-transfer`;

function expectUnauthenticated(answer: ApiAnswer): void {
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ error: { code: 'EVS.5401', message: ERROR_CATALOGUE.Unauthenticated.message } });
}

describe('AK/SK request signing (SDK-HMAC-SHA256)', () => {
  it('runs create, show, list, list with details, accept and delete over signed calls only', async () => {
    const a = await Tenant.create('aksk-a');
    const b = await Tenant.create('aksk-b');
    const keyA = await createAccessKey(a.projectId, 'alice');
    const keyB = await createAccessKey(b.projectId, 'bob');
    expect(keyA.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(keyA.secretKey).toMatch(/^[A-Za-z0-9]{40}$/);
    const disk = await a.createDisk({ name: 'signed-1' });
    const disk2 = await a.createDisk({ name: 'signed-2' });

    const created = await signed(keyA, 'POST', transfers(a.projectId), { body: { transfer: { volume_id: disk.id, name: 'signed' } } });
    expect(created.status).toBe(202);
    const t = created.body.transfer;
    expect(t).toMatchObject({ name: 'signed', volume_id: disk.id, auth_key: expect.stringMatching(/^[0-9a-f]{16}$/) });

    expect((await signed(keyA, 'GET', `${transfers(a.projectId)}/${t.id}`)).body.transfer).toMatchObject({ id: t.id, created_at: t.created_at });
    const list = await signed(keyA, 'GET', `${transfers(a.projectId)}?limit=10&offset=0`);
    expect(list.status).toBe(200);
    expect(list.body.transfers.map((x: { id: string }) => x.id)).toEqual([t.id]);
    const detail = await signed(keyA, 'GET', `${transfers(a.projectId)}/detail?limit=10`);
    expect(detail.body.transfers).toEqual([expect.objectContaining({ id: t.id, created_at: t.created_at })]);

    const accepted = await signed(keyB, 'POST', `${transfers(b.projectId)}/${t.id}/accept`, { body: { accept: { auth_key: t.auth_key } } });
    expect(accepted.status).toBe(202);
    expect((await b.disk(disk.id))?.['os-vol-tenant-attr:tenant_id']).toBe(b.projectId);

    const second = await signed(keyA, 'POST', transfers(a.projectId), { body: { transfer: { volume_id: disk2.id } } });
    expect(second.status).toBe(202);
    const deleted = await signed(keyA, 'DELETE', `${transfers(a.projectId)}/${second.body.transfer.id}`);
    expect(deleted.status).toBe(202);
    expect((await a.disk(disk2.id))?.status).toBe('available');
  });

  it('answers 401 EVS.5401, with the same message, to a forged signature, a tampered body, a stale date and an unknown key', async () => {
    const a = await Tenant.create('aksk-bad');
    const key = await createAccessKey(a.projectId, 'alice');
    const disk = await a.createDisk();
    const body = { transfer: { volume_id: disk.id, name: 'mine' } };

    const forged = key.secretKey.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expectUnauthenticated(await signed(key, 'GET', transfers(a.projectId), { secretKey: forged }));
    expectUnauthenticated(
      await signed(key, 'POST', transfers(a.projectId), { body, sendBody: JSON.stringify({ transfer: { volume_id: disk.id, name: 'theirs' } }) }),
    );
    expectUnauthenticated(await signed(key, 'GET', transfers(a.projectId), { date: new Date(Date.now() - 15 * 60_000) }));
    expectUnauthenticated(await signed(key, 'GET', transfers(a.projectId), { date: new Date(Date.now() + 15 * 60_000) }));
    expectUnauthenticated(await signed({ ...key, accessKeyId: 'UNKNOWNKEY0000000000' }, 'GET', transfers(a.projectId)));
    // X-Project-Id names the project the key acts for: another one is refused like any bad credential.
    expectUnauthenticated(await signed(key, 'GET', transfers(a.projectId), { projectHeader: uniqueProjectId('other') }));

    // Nothing of the above reached the disk.
    expect((await a.disk(disk.id))?.status).toBe('available');
  });

  it('accepts a signed change once: the same request sent again is 401 and changes nothing', async () => {
    const a = await Tenant.create('aksk-replay');
    const key = await createAccessKey(a.projectId, 'alice');
    const disk = await a.createDisk();
    const path = transfers(a.projectId);
    const body = JSON.stringify({ transfer: { volume_id: disk.id, name: 'once' } });
    const headers = signRequest({
      method: 'POST',
      url: `${testStack().gatewayUrl}${path}`,
      key,
      body,
      headers: { 'content-type': 'application/json', 'x-project-id': a.projectId },
    });

    expect((await call('POST', path, { headers, rawBody: body })).status).toBe(202);
    expectUnauthenticated(await call('POST', path, { headers, rawBody: body }));
    expect((await a.api('GET', path)).body.transfers).toHaveLength(1);
  });

  it('refuses a revoked key from the next request on', async () => {
    const a = await Tenant.create('aksk-revoke');
    const key = await createAccessKey(a.projectId, 'alice');
    expect((await signed(key, 'GET', transfers(a.projectId))).status).toBe(200);
    await revokeAccessKey(key.accessKeyId);
    expectUnauthenticated(await signed(key, 'GET', transfers(a.projectId)));
    expect(await listAccessKeys(a.projectId)).toEqual([
      expect.objectContaining({ access_key: key.accessKeyId, revoked_at: expect.any(String) }),
    ]);
  });

  it('answers 403 EVS.5403 to a key of project A used on project B’s path', async () => {
    const a = await Tenant.create('aksk-a');
    const b = await Tenant.create('aksk-b');
    const keyA = await createAccessKey(a.projectId, 'alice');
    const disk = await b.createDisk();
    const answer = await signed(keyA, 'POST', transfers(b.projectId), {
      body: { transfer: { volume_id: disk.id } },
      projectHeader: a.projectId,
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('EVS.5403');
    expect((await b.disk(disk.id))?.status).toBe('available');
  });
});
