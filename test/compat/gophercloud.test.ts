/**
 * gophercloud v2 (github.com/gophercloud/gophercloud/v2, block-storage v3
 * transfers and volumes), unchanged, runs the seed procedure against the
 * real stack through the small Go program in test/compat/gophercloud: the
 * disk found by name through the volume list, transfers created by name and
 * by id, shown, listed (every page), accepted as B, both projects' volume
 * lists, a delete. gophercloud sends no microversion and parses created_at
 * with Cinder's layout, so this also holds the timestamps to it.
 *
 * The module is fetched through the Go module proxy into .tools/go (git-
 * ignored) and built there on first use; later runs reuse the cache.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../support/stack';
import { issueToken } from '../support/tenants';
import { COMPAT_DIR, compatInventory, type ProcedureReport, REQUEST_ID, seedProcedure, seedVariables, stepsByName, stepValue } from './python-clients';

const run = promisify(execFile);
const BINARY = path.join(ROOT_DIR, '.tools', 'gophercloud-seed');

describe('gophercloud v2 runs the seed procedure unchanged', () => {
  beforeAll(async () => {
    const goDir = path.join(ROOT_DIR, '.tools', 'go');
    await run('go', ['build', '-o', BINARY, '.'], {
      cwd: path.join(COMPAT_DIR, 'gophercloud'),
      env: { ...process.env, GOMODCACHE: path.join(goDir, 'mod'), GOCACHE: path.join(goDir, 'cache'), GOFLAGS: '-mod=mod' },
      timeout: 540_000,
    });
  }, 600_000);

  it('creates by name and by id, shows, lists, accepts as B, deletes; the disk ends with B', async () => {
    const seed = await seedProcedure('go');
    const { stdout } = await run(BINARY, [], {
      env: {
        ...seedVariables(seed),
        EVS_TOKEN_A: await issueToken(seed.projectA, 'alice'),
        EVS_TOKEN_B: await issueToken(seed.projectB, 'bob'),
        EVS_VOLUME_NAME: 'compat-1',
      },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout) as ProcedureReport;
    const steps = stepsByName(report);
    expect(stepValue(steps.find_volume_by_name)).toEqual([seed.volumeId]);
    const created = stepValue(steps.create_by_name);
    expect(created).toMatchObject({ name: 'compat gophercloud', volume_id: seed.volumeId });
    expect(created.auth_key).toMatch(/^[0-9a-f]{16}$/);
    // Parsed with Cinder's layout: a year that is not 0001 proves the timestamp was read.
    expect(created.created_at).toMatch(/^20\d\d-/);
    const second = stepValue(steps.create_by_id);
    expect(second.volume_id).toBe(seed.volumeId2);
    expect(stepValue(steps.show)).toMatchObject({ id: created.id, created_at: created.created_at });
    expect((stepValue(steps.list) as { id: string }[]).map((t) => t.id).sort()).toEqual([created.id, second.id].sort());
    expect(stepValue(steps.accept)).toEqual({ id: created.id, volume_id: seed.volumeId });
    expect(stepValue(steps.volume_list_a)).toEqual([seed.volumeId2]);
    expect(stepValue(steps.volume_list_b)).toEqual([seed.volumeId]);
    expect(steps.delete?.ok, JSON.stringify(steps.delete)).toBe(true);
    expect(stepValue(steps.list_at_end)).toEqual([]);
    expect((await compatInventory().showVolume(seed.projectA, seed.volumeId2))?.status).toBe('available');

    for (const r of report.requests) {
      expect(r.token).toBe(true);
      expect(r.api_version).toBeNull();
      expect(r.request_id).toMatch(REQUEST_ID);
    }
    expect(report.requests.filter((r) => r.path.includes('transfer')).every((r) => r.path.includes('/os-volume-transfer'))).toBe(true);
  });
});
