/**
 * openstacksdk's block-storage proxy, unchanged, runs the seed procedure
 * against the real stack (test/compat/openstacksdk_seed_procedure.py):
 * create_transfer, get_transfer, transfers() (detail and summary),
 * accept_transfer as another project, delete_transfer. Authentication is a
 * static token (admin_token plugin) with a block_storage endpoint override,
 * as for a cloud without Keystone.
 *
 * The SDK reads Cinder's version discovery document at GET /v3, without a
 * token, before its first call (it refuses to build the proxy without one),
 * and negotiates from it: the gateway advertises 3.0 to 3.59, and the SDK's
 * transfer resource goes up to 3.55, so every call goes to v3's
 * volume-transfers routes with `volume 3.55`, and the views carry
 * no_snapshots.
 *
 * The clients are installed from PyPI into .tools/compat-venv-<hash> on first use
 * (about 10 s); later runs reuse it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import {
  CINDER_TIME,
  compatInventory,
  compatPython,
  REQUEST_ID,
  requestLines,
  runProcedure,
  seedProcedureInputs,
  stepFailure,
  stepsByName,
  stepValue,
} from './python-clients';

describe('openstacksdk runs the seed procedure unchanged', () => {
  let python: string;
  beforeAll(async () => {
    python = await compatPython();
  }, 300_000);

  it('negotiates 3.55 and volume-transfers, every call succeeds, refusals are SDK exceptions with our message and request id, the disk ends with B', async () => {
    const inputs = await seedProcedureInputs('sdk');
    const disk = { id: inputs.volumeId };
    const disk2 = { id: inputs.volumeId2 };
    const [a, b] = [inputs.projectA, inputs.projectB];
    const inventory = compatInventory();
    const report = await runProcedure(python, 'openstacksdk_seed_procedure.py', { ...inputs });
    expect(report.client).toMatchObject({ name: 'openstacksdk', version: '4.22.0', api_version: '3' });
    const steps = stepsByName(report);
    expect(steps.connect_a?.ok && steps.connect_b?.ok, JSON.stringify([steps.connect_a, steps.connect_b])).toBe(true);

    const created = stepValue(steps.create);
    expect(Object.keys(created).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'no_snapshots', 'volume_id']);
    expect(created).toMatchObject({ name: 'compat openstacksdk', volume_id: disk.id, no_snapshots: true });
    expect(created.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect(created.created_at).toMatch(CINDER_TIME);
    const t = created.id as string;
    const detail = { id: t, name: 'compat openstacksdk', volume_id: disk.id, created_at: created.created_at, links: created.links, no_snapshots: true };
    const { created_at: _omitted, no_snapshots: _alsoOmitted, ...summary } = detail;
    expect(stepValue(steps.get)).toEqual(detail);
    expect(stepValue(steps.list_detailed)).toEqual([detail]);
    expect(stepValue(steps.list_summary)).toEqual([summary]);

    const wrongKey = stepFailure(steps.accept_wrong_key);
    expect(wrongKey).toMatchObject({
      type: 'BadRequestException',
      module: 'openstack.exceptions',
      code: 400,
      message: ERROR_CATALOGUE.InvalidAuthKey.message,
    });
    expect(wrongKey.request_id).toMatch(REQUEST_ID);
    expect(stepValue(steps.accept)).toEqual({ id: t, name: 'compat openstacksdk', volume_id: disk.id, links: expect.any(Array) });
    expect(stepFailure(steps.get_after_accept)).toMatchObject({ type: 'NotFoundException', code: 404, message: ERROR_CATALOGUE.TransferNotFound.message });

    const owned = await inventory.showVolume(b, disk.id);
    expect(owned?.status).toBe('available');
    expect(owned?.['os-vol-tenant-attr:tenant_id']).toBe(b);
    expect(await inventory.showVolume(a, disk.id)).toBeNull();

    const second = stepValue(steps.create_second);
    expect(steps.delete?.ok).toBe(true);
    expect(stepFailure(steps.delete_again)).toMatchObject({ type: 'NotFoundException', code: 404 });
    expect(stepValue(steps.list_at_end)).toEqual([]);
    expect((await inventory.showVolume(a, disk2.id))?.status).toBe('available');

    // Discovery once per connection, without a token; then the API calls, each with the token and `volume 3.55`.
    expect(requestLines(report, { A: a, B: b, T: t, T2: second.id })).toEqual([
      'GET /v3 200',
      'GET /v3 200',
      'POST /v3/{A}/volume-transfers 202',
      'GET /v3/{A}/volume-transfers/{T} 200',
      'GET /v3/{A}/volume-transfers/detail 200',
      'GET /v3/{A}/volume-transfers 200',
      'POST /v3/{B}/volume-transfers/{T}/accept 400',
      'POST /v3/{B}/volume-transfers/{T}/accept 202',
      'GET /v3/{A}/volume-transfers/{T} 404',
      'POST /v3/{A}/volume-transfers 202',
      'DELETE /v3/{A}/volume-transfers/{T2} 202',
      'DELETE /v3/{A}/volume-transfers/{T2} 404',
      'GET /v3/{A}/volume-transfers/detail 200',
    ]);
    const [discoveryA, discoveryB, ...calls] = report.requests;
    for (const r of [discoveryA, discoveryB]) expect(r).toMatchObject({ token: false, api_version: null });
    for (const r of calls) {
      expect(r.token).toBe(true);
      expect(r.api_version).toBe('volume 3.55');
      expect(r.request_id).toMatch(REQUEST_ID);
    }
  });
});
