/**
 * The official Huawei Cloud Python SDK (huaweicloudsdkevs.v2.EvsClient over
 * huaweicloudsdkcore), unchanged, runs the seed procedure against the real
 * stack with AK/SK signing (test/compat/huawei_sdk_seed_procedure.py): A
 * creates, shows and lists a transfer, B accepts it with B's own access key
 * (a wrong auth key first), A creates a second one and deletes it. The
 * access keys are made with the access-keys command on the stack's data
 * folder, as an operator would.
 *
 * The SDK is installed from PyPI into .tools/compat-venv-<hash> on first use;
 * later runs reuse it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { createAccessKey } from '../support/access-keys';
import {
  CINDER_TIME,
  compatInventory,
  compatPython,
  REQUEST_ID,
  requestLines,
  runScript,
  seedProcedure,
  seedVariables,
  stepFailure,
  stepsByName,
  stepValue,
} from './python-clients';

describe('the Huawei Cloud SDK (huaweicloudsdkevs) runs the seed procedure unchanged, signing with AK/SK', () => {
  let python: string;
  beforeAll(async () => {
    python = await compatPython();
  }, 300_000);

  it('creates, shows, lists, accepts as B and deletes; a refusal carries our status, code and message', async () => {
    const seed = await seedProcedure('huawei');
    const [a, b] = [seed.projectA, seed.projectB];
    const keyA = await createAccessKey(a, 'alice');
    const keyB = await createAccessKey(b, 'bob');
    const report = await runScript(python, 'huawei_sdk_seed_procedure.py', {
      ...seedVariables(seed),
      EVS_AK_A: keyA.accessKeyId,
      EVS_SK_A: keyA.secretKey,
      EVS_AK_B: keyB.accessKeyId,
      EVS_SK_B: keyB.secretKey,
    });
    expect(report.client).toMatchObject({ name: 'huaweicloudsdkevs', version: '3.1.219', core: '3.1.219' });
    const steps = stepsByName(report);
    const inventory = compatInventory();

    // A creates, shows and lists the transfer: the SDK's models carry exactly our fields.
    const created = stepValue(steps.create);
    expect(created).toMatchObject({ name: 'compat huawei sdk', volume_id: seed.volumeId });
    expect(created.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect(created.created_at).toMatch(CINDER_TIME);
    const t = created.id as string;
    const links = created.links as { href: string; rel: string }[];
    expect(links.map((l) => l.rel)).toEqual(['self', 'bookmark']);
    expect(links[0]?.href).toContain(`/v2/${a}/os-volume-transfer/${t}`);
    const summary = { id: t, name: 'compat huawei sdk', volume_id: seed.volumeId, links };
    expect(stepValue(steps.show)).toEqual({ ...summary, created_at: created.created_at });
    expect(stepValue(steps.list)).toEqual([summary]);
    expect(stepValue(steps.list_paged)).toEqual([summary]);

    // B's wrong key is the SDK's ClientRequestException with our status, code, message and request id.
    expect(stepFailure(steps.accept_wrong_key)).toMatchObject({
      type: 'ClientRequestException',
      module: 'huaweicloudsdkcore.exceptions.exceptions',
      code: 400,
      error_code: ERROR_CATALOGUE.InvalidAuthKey.code,
      message: ERROR_CATALOGUE.InvalidAuthKey.message,
      request_id: expect.stringMatching(REQUEST_ID),
    });

    // The right key moves the disk to B.
    const accepted = stepValue(steps.accept);
    expect(accepted).toMatchObject({ id: t, name: 'compat huawei sdk', volume_id: seed.volumeId });
    expect(accepted.links[0].href).toContain(`/v2/${b}/os-volume-transfer/${t}`);
    const owned = await inventory.showVolume(b, seed.volumeId);
    expect(owned?.['os-vol-tenant-attr:tenant_id']).toBe(b);
    expect(owned?.status).toBe('available');
    expect(await inventory.showVolume(a, seed.volumeId)).toBeNull();
    expect(stepFailure(steps.show_after_accept)).toMatchObject({ code: 404, error_code: 'EVS.5404' });

    // A deletes a second transfer: its disk is A's and available again.
    const second = stepValue(steps.create_second);
    expect(second.name).toBeNull();
    expect(stepValue(steps.delete)).toBe(202);
    expect(stepFailure(steps.delete_again)).toMatchObject({ type: 'ClientRequestException', code: 404, error_code: 'EVS.5404' });
    expect(stepValue(steps.list_at_end)).toEqual([]);
    expect((await inventory.showVolume(a, seed.volumeId2))?.status).toBe('available');

    // Exactly these requests, every one signed, none with a token.
    expect(requestLines(report, { A: a, B: b, T: t, T2: second.id })).toEqual([
      'POST /v2/{A}/os-volume-transfer 202',
      'GET /v2/{A}/os-volume-transfer/{T} 200',
      'GET /v2/{A}/os-volume-transfer 200',
      'GET /v2/{A}/os-volume-transfer?limit=10&offset=0 200',
      'POST /v2/{B}/os-volume-transfer/{T}/accept 400',
      'POST /v2/{B}/os-volume-transfer/{T}/accept 202',
      'GET /v2/{A}/os-volume-transfer/{T} 404',
      'POST /v2/{A}/os-volume-transfer 202',
      'DELETE /v2/{A}/os-volume-transfer/{T2} 202',
      'DELETE /v2/{A}/os-volume-transfer/{T2} 404',
      'GET /v2/{A}/os-volume-transfer 200',
    ]);
    for (const r of report.requests) {
      expect(r).toMatchObject({ signed: true, token: false, request_id: expect.stringMatching(REQUEST_ID) });
    }
  });
});
