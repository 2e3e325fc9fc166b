/**
 * python-cinderclient, unchanged, runs the seed procedure against the real
 * stack (test/compat/cinder_seed_procedure.py): create, show, list, find,
 * accept as another project, delete. Authentication is a static token
 * (keystoneauth's admin_token plugin) and the gateway the endpoint, as for
 * any cloud without Keystone. At 3.0 the client sends no microversion header
 * and asks for no version document; at 3.54 (the highest that still uses
 * os-volume-transfer) it sends `OpenStack-API-Version: volume 3.54`; at 3.59
 * it uses v3's volume-transfers routes and reads the 3.55/3.57 fields.
 * cinderclient 9 has no v2 client.
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

describe('python-cinderclient runs the seed procedure unchanged', () => {
  let python: string;
  beforeAll(async () => {
    python = await compatPython();
  }, 300_000);

  // From 3.55 the client uses v3's volume-transfers routes; the views gain no_snapshots (3.55) and the history fields (3.57).
  const HISTORY = ['accepted', 'destination_project_id', 'no_snapshots', 'source_project_id'];
  it.each([
    ['3', null, 'os-volume-transfer', []],
    ['3.54', 'volume 3.54', 'os-volume-transfer', []],
    ['3.59', 'volume 3.59', 'volume-transfers', HISTORY],
  ])('at API version %s: every call succeeds, refusals are cinderclient exceptions, the disk ends with B', async (apiVersion, header, route, added) => {
    const inputs = await seedProcedureInputs('cinder');
    const disk = { id: inputs.volumeId };
    const disk2 = { id: inputs.volumeId2 };
    const [a, b] = [inputs.projectA, inputs.projectB];
    const inventory = compatInventory();
    const report = await runProcedure(python, 'cinder_seed_procedure.py', { ...inputs, apiVersion });
    expect(report.client).toMatchObject({ name: 'python-cinderclient', version: '9.10.0', api_version: apiVersion });
    const steps = stepsByName(report);

    // A creates, shows, lists and finds the transfer.
    const created = stepValue(steps.create);
    expect(Object.keys(created).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id', ...added].sort());
    expect(created).toMatchObject({ name: 'compat cinderclient', volume_id: disk.id });
    expect(created.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect(created.created_at).toMatch(CINDER_TIME);
    const t = created.id as string;
    const history = added.length > 0 ? { no_snapshots: true, source_project_id: a, destination_project_id: null, accepted: false } : {};
    expect(created).toMatchObject(history);
    const summary = { id: t, name: 'compat cinderclient', volume_id: disk.id, links: created.links };
    const detail = { ...summary, created_at: created.created_at, ...history };
    expect(stepValue(steps.get)).toEqual(detail);
    expect(stepValue(steps.list_detailed)).toEqual([detail]);
    expect(stepValue(steps.list_summary)).toEqual([summary]);
    expect(stepValue(steps.find_by_name)).toEqual(detail);

    // B cannot see it; a wrong key is refused as cinderclient's BadRequest with our message; the right key moves the disk.
    expect(stepFailure(steps.get_as_recipient)).toMatchObject({ type: 'NotFound', module: 'cinderclient.exceptions', code: 404 });
    expect(stepFailure(steps.accept_wrong_key)).toMatchObject({
      type: 'BadRequest',
      module: 'cinderclient.exceptions',
      code: 400,
      message: ERROR_CATALOGUE.InvalidAuthKey.message,
    });
    const accepted = stepValue(steps.accept);
    expect(accepted).toEqual({ id: t, name: 'compat cinderclient', volume_id: disk.id, links: expect.any(Array) });
    expect(accepted.links[0].href).toContain(`/v3/${b}/os-volume-transfer/${t}`);
    expect(stepFailure(steps.get_after_accept)).toMatchObject({ type: 'NotFound', code: 404, message: ERROR_CATALOGUE.TransferNotFound.message });

    const owned = await inventory.showVolume(b, disk.id);
    expect(owned?.status).toBe('available');
    expect(owned?.['os-vol-tenant-attr:tenant_id']).toBe(b);
    expect(await inventory.showVolume(a, disk.id)).toBeNull();

    // A deletes a second transfer: the disk is A's and available again; a second delete is a NotFound.
    const second = stepValue(steps.create_second);
    expect(second.name).toBeNull();
    expect(steps.delete?.ok).toBe(true);
    expect(stepFailure(steps.delete_again)).toMatchObject({ type: 'NotFound', code: 404 });
    expect(stepValue(steps.list_at_end)).toEqual([]);
    expect((await inventory.showVolume(a, disk2.id))?.status).toBe('available');

    // Exactly these requests: no version discovery, each with the token, the microversion header only when above 3.0.
    expect(requestLines(report, { A: a, B: b, T: t, T2: second.id })).toEqual([
      `POST /v3/{A}/${route} 202`,
      `GET /v3/{A}/${route}/{T} 200`,
      `GET /v3/{A}/${route}/detail 200`,
      `GET /v3/{A}/${route} 200`,
      `GET /v3/{A}/${route}/detail?all_tenants=1&name=compat+cinderclient 200`,
      `GET /v3/{B}/${route}/{T} 404`,
      `POST /v3/{B}/${route}/{T}/accept 400`,
      `POST /v3/{B}/${route}/{T}/accept 202`,
      `GET /v3/{A}/${route}/{T} 404`,
      `POST /v3/{A}/${route} 202`,
      `DELETE /v3/{A}/${route}/{T2} 202`,
      `DELETE /v3/{A}/${route}/{T2} 404`,
      `GET /v3/{A}/${route}/detail 200`,
    ]);
    for (const r of report.requests) {
      expect(r.token).toBe(true);
      expect(r.api_version).toBe(header);
      expect(r.request_id).toMatch(REQUEST_ID);
    }
  });
});
