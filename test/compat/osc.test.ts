/**
 * python-openstackclient (the `openstack` CLI), unchanged, runs the seed
 * procedure against the real stack (test/compat/osc_seed_procedure.py) at
 * its default volume API version and at 3.55, 3.57 and 3.59: a transfer of a
 * disk named by its name and of another by its id, show, list, accept as
 * another project, both projects' `volume list`, delete; and a transfer of
 * a name two volumes share, which OSC must refuse as ambiguous. OSC finds a
 * volume through the volume routes (GET /volumes/{name_or_id}, then the
 * detailed list filtered by name), which is what failed before the gateway
 * served volumes.
 *
 * OSC and tempest are installed from PyPI into .tools/osc-venv-<hash> on
 * first use; later runs reuse it. npm test runs this file once, in its
 * second pass (test/support/passes.ts): the gateway's edge is the same
 * whatever the stores.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SECOND_PASS_ONLY } from '../support/passes';
import { issueToken } from '../support/tenants';
import { compatInventory, oscPython, REQUEST_ID, runScript, seedProcedure, seedVariables, stepFailure, stepsByName, stepValue } from './python-clients';

describe.skipIf(SECOND_PASS_ONLY)('python-openstackclient runs the seed procedure unchanged', () => {
  let python: string;
  beforeAll(async () => {
    python = await oscPython();
  }, 600_000);

  it.each([[''], ['3.55'], ['3.57'], ['3.59']])('at volume API version %j', async (apiVersion) => {
    const seed = await seedProcedure('osc');
    const inventory = compatInventory();
    const twin = `twin-${seed.projectA}`;
    await inventory.createVolume(seed.projectA, { size: 1, name: twin });
    await inventory.createVolume(seed.projectA, { size: 1, name: twin });
    const report = await runScript(python, 'osc_seed_procedure.py', {
      ...seedVariables(seed),
      EVS_TOKEN_A: await issueToken(seed.projectA, 'alice'),
      EVS_TOKEN_B: await issueToken(seed.projectB, 'bob'),
      EVS_VOLUME_NAME: 'compat-1',
      EVS_TWIN_NAME: twin,
      ...(apiVersion ? { EVS_API_VERSION: apiVersion } : {}),
    });
    expect(report.client).toMatchObject({ name: 'python-openstackclient', version: '10.5.0' });
    const steps = stepsByName(report);

    const created = stepValue(steps.create_by_name);
    expect(created).toMatchObject({ name: 'compat osc', volume_id: seed.volumeId });
    expect(created.auth_key).toMatch(/^[0-9a-f]{16}$/);
    const byId = stepValue(steps.create_by_id);
    expect(byId).toMatchObject({ volume_id: seed.volumeId2 });
    expect(stepValue(steps.show)).toMatchObject({ id: created.id, volume_id: seed.volumeId });
    const listed = (stepValue(steps.list) as Record<string, string>[]).map((t) => t.ID ?? t.id);
    expect(listed.sort()).toEqual([created.id, byId.id].sort());
    expect(steps.accept?.ok, JSON.stringify(steps.accept)).toBe(true);

    // The disk moved: A's volume list no longer has it, B's does.
    const ids = (rows: Record<string, string>[]) => rows.map((v) => v.ID ?? v.id);
    const listA = ids(stepValue(steps.volume_list_a));
    expect(listA).not.toContain(seed.volumeId);
    expect(listA).toContain(seed.volumeId2);
    expect(ids(stepValue(steps.volume_list_b))).toEqual([seed.volumeId]);
    expect((await inventory.showVolume(seed.projectB, seed.volumeId))?.status).toBe('available');

    expect(steps.delete?.ok, JSON.stringify(steps.delete)).toBe(true);
    expect(stepValue(steps.list_at_end)).toEqual([]);
    expect((await inventory.showVolume(seed.projectA, seed.volumeId2))?.status).toBe('available');

    // A name two volumes share: OSC says so (from the two volumes the name filter lists) and changes nothing.
    expect(stepFailure(steps.create_ambiguous_name).message).toMatch(/more than one/i);

    const api = report.requests.filter((r) => r.token);
    expect(api.length).toBeGreaterThan(0);
    for (const r of api) expect(r.request_id).toMatch(REQUEST_ID);
    const transferCalls = api.filter((r) => r.path.includes('transfer'));
    const route = apiVersion === '' ? null : 'volume-transfers';
    if (route) for (const r of transferCalls) expect(r.path).toContain(`/${route}`);
  });
});
