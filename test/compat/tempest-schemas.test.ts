/**
 * The gateway's transfer and volume responses against tempest's published
 * response schemas (the `tempest` package from PyPI), at 3.0, 3.55, 3.57 and
 * 3.59, validated as tempest's own REST client validates them
 * (test/compat/tempest_schema_check.py). The schemas refuse unknown keys, so
 * a field shown at the wrong version fails here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken, uniqueProjectId } from '../support/tenants';
import { compatInventory, oscPython, runScript, testStackGatewayUrl } from './python-clients';

describe('tempest’s response schemas', () => {
  let python: string;
  beforeAll(async () => {
    python = await oscPython();
  }, 600_000);

  it('hold every transfer and volume response at 3.0, 3.55, 3.57 and 3.59', async () => {
    const inventory = compatInventory();
    const projectA = uniqueProjectId('tempest-a');
    const projectB = uniqueProjectId('tempest-b');
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) ids.push((await inventory.createVolume(projectA, { size: 1, name: `tempest-${i}` })).id);
    const report = await runScript(python, 'tempest_schema_check.py', {
      EVS_GATEWAY_URL: testStackGatewayUrl(),
      EVS_PROJECT_A: projectA,
      EVS_PROJECT_B: projectB,
      EVS_TOKEN_A: await issueToken(projectA, 'alice'),
      EVS_TOKEN_B: await issueToken(projectB, 'bob'),
      EVS_VOLUME_IDS: ids.join(','),
    });
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed).toEqual([]);
    expect(report.steps.length).toBe(4 * 10);
  });
});
