/**
 * The volume routes as served (GatewayModule + configureGateway on a real
 * socket), with the inventory's volume read replaced by an in-memory one:
 * these specs test the HTTP layer; test/compat runs the real inventory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTokenIssuer } from '../../../../libs/auth/src/local-issuer';
import { loadConfig } from '../../../../libs/config/src/config';
import { InventoryUnavailableError } from '../../../../libs/inventory-client/src/inventory.client';
import type { VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import { listenGateway } from '../gateway.test-harness';
import type { VolumeInventory } from './volume.service';

const OWNER = 'project-a';
const OTHER = 'project-b';

function volume(n: number, projectId: string, overrides: Partial<VolumeView> = {}): VolumeView {
  return {
    id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    name: `disk-${n}`,
    status: 'available',
    size: n,
    volume_type: 'SSD',
    bootable: 'false',
    encrypted: false,
    'os-vol-tenant-attr:tenant_id': projectId,
    project_id: projectId,
    billing_mode: 'postpaid',
    frozen: false,
    storage_kind: 'shared',
    backup_policy_id: null,
    replication_pair_id: null,
    attachments: [],
    snapshot_count: 0,
    backup_count: 0,
    created_at: `2026-01-0${n}T00:00:00.000000`,
    updated_at: `2026-01-0${n}T00:00:00.000000`,
    ...overrides,
  };
}

const VOLUMES: VolumeView[] = [
  volume(1, OWNER),
  volume(2, OWNER, { status: 'awaiting-transfer' }),
  volume(3, OWNER, { name: 'twin' }),
  volume(4, OWNER, { name: 'twin' }),
  volume(5, OTHER),
];

class MemoryInventory implements VolumeInventory {
  down = false;
  async listProjectVolumes(projectId: string): Promise<VolumeView[]> {
    if (this.down) throw new InventoryUnavailableError('inventory away');
    return VOLUMES.filter((v) => v.project_id === projectId);
  }
}

const inventory = new MemoryInventory();
let dir: string;
let app: INestApplication;
let baseUrl: string;
let ownerToken: string;
let adminToken: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-volumes-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const issuer = LocalTokenIssuer.open(config.auth);
  ownerToken = await issuer.issueToken({ projectId: OWNER, userId: 'alice', roles: ['reader'], ttlSeconds: 600 });
  adminToken = await issuer.issueToken({ projectId: OWNER, userId: 'root', roles: ['admin'], ttlSeconds: 600 });
  const publisher = { publish: async () => undefined };
  ({ app, url: baseUrl } = await listenGateway(config, {}, publisher, { volumes: inventory }));
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get(urlPath: string, options: { token?: string | null; version?: string } = {}) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ownerToken : options.token;
  if (token !== null) headers['X-Auth-Token'] = token;
  if (options.version) headers['OpenStack-API-Version'] = `volume ${options.version}`;
  const res = await fetch(`${baseUrl}${urlPath}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> };
}

const CINDER_KEYS = [
  'attachments',
  'availability_zone',
  'bootable',
  'consistencygroup_id',
  'created_at',
  'description',
  'encrypted',
  'id',
  'links',
  'metadata',
  'multiattach',
  'name',
  'replication_status',
  'size',
  'snapshot_id',
  'source_volid',
  'status',
  'updated_at',
  'user_id',
  'volume_type',
];
const ADMIN_KEYS = ['migration_status', 'os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id', 'os-vol-tenant-attr:tenant_id'];

describe('volumes at the transfer endpoint', () => {
  it('shows the caller’s volume in Cinder’s shape, for v2 and v3', async () => {
    for (const v of ['v2', 'v3']) {
      const reply = await get(`/${v}/${OWNER}/volumes/${VOLUMES[1].id}`);
      expect(reply.status).toBe(200);
      const shown = reply.body.volume as Record<string, unknown>;
      expect(Object.keys(shown).sort()).toEqual(CINDER_KEYS);
      expect(shown).toMatchObject({ id: VOLUMES[1].id, status: 'awaiting-transfer', size: 2, bootable: 'false', multiattach: false });
      expect(shown.links).toEqual([
        { href: `${baseUrl}/${v}/${OWNER}/volumes/${VOLUMES[1].id}`, rel: 'self' },
        { href: `${baseUrl}/${OWNER}/volumes/${VOLUMES[1].id}`, rel: 'bookmark' },
      ]);
    }
  });

  it('adds the admin attributes for admins, and the 3.13 and 3.48 fields at those versions', async () => {
    const admin = (await get(`/v3/${OWNER}/volumes/${VOLUMES[0].id}`, { token: adminToken })).body.volume as Record<string, unknown>;
    expect(Object.keys(admin).sort()).toEqual([...CINDER_KEYS, ...ADMIN_KEYS].sort());
    expect(admin['os-vol-tenant-attr:tenant_id']).toBe(OWNER);
    const at13 = (await get(`/v3/${OWNER}/volumes/${VOLUMES[0].id}`, { version: '3.13' })).body.volume as Record<string, unknown>;
    expect(Object.keys(at13)).toContain('group_id');
    expect(Object.keys(at13)).not.toContain('shared_targets');
    const at59 = await get(`/v3/${OWNER}/volumes/${VOLUMES[0].id}`, { version: '3.59' });
    expect(Object.keys(at59.body.volume as object)).toEqual(expect.arrayContaining(['group_id', 'service_uuid', 'shared_targets']));
    expect(at59.headers.get('openstack-api-version')).toBe('volume 3.59');
  });

  it('answers 404, never 403, for another project’s volume, an unknown id or a name', async () => {
    for (const id of [VOLUMES[4].id, '00000000-0000-4000-8000-0000000000ff', 'disk-1']) {
      const reply = await get(`/v3/${OWNER}/volumes/${id}`);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ error: { code: 'EVS.5404', message: 'Volume not found.' } });
    }
  });

  it('lists the project’s volumes newest first, summary and detail', async () => {
    const summary = await get(`/v3/${OWNER}/volumes`);
    expect((summary.body.volumes as { id: string }[]).map((v) => v.id)).toEqual([4, 3, 2, 1].map((n) => VOLUMES[n - 1].id));
    expect(Object.keys((summary.body.volumes as object[])[0])).toEqual(['id', 'name', 'links']);
    const detail = await get(`/v3/${OWNER}/volumes/detail`);
    expect((detail.body.volumes as object[]).length).toBe(4);
  });

  it('filters by name and status; a shared name lists both, so a client can say it is ambiguous', async () => {
    const twins = await get(`/v3/${OWNER}/volumes/detail?name=twin`);
    expect((twins.body.volumes as { id: string }[]).map((v) => v.id).sort()).toEqual([VOLUMES[2].id, VOLUMES[3].id]);
    const waiting = await get(`/v3/${OWNER}/volumes?status=awaiting-transfer`);
    expect((waiting.body.volumes as { id: string }[]).map((v) => v.id)).toEqual([VOLUMES[1].id]);
    const none = await get(`/v3/${OWNER}/volumes?name=disk-5`);
    expect(none.body).toEqual({ volumes: [] });
  });

  it('pages with sort, marker, limit and offset, with volumes_links when the page is full', async () => {
    const first = await get(`/v3/${OWNER}/volumes?sort=size:asc&limit=2`);
    expect((first.body.volumes as { id: string }[]).map((v) => v.id)).toEqual([VOLUMES[0].id, VOLUMES[1].id]);
    const [next] = first.body.volumes_links as { href: string; rel: string }[];
    expect(next).toEqual({ href: `${baseUrl}/v3/${OWNER}/volumes?sort=size%3Aasc&limit=2&marker=${VOLUMES[1].id}`, rel: 'next' });
    const second = await get(next.href.replace(baseUrl, ''));
    expect((second.body.volumes as { id: string }[]).map((v) => v.id)).toEqual([VOLUMES[2].id, VOLUMES[3].id]);
  });

  it.each([['sort=color'], [`marker=${VOLUMES[4].id}`], ['limit=0']])('refuses %s with a 400', async (query) => {
    const reply = await get(`/v3/${OWNER}/volumes?${query}`);
    expect(reply.status).toBe(400);
    expect((reply.body.error as { code: string }).code).toBe('EVS.5400');
  });

  it('holds the volumes to the transfers’ rules: credentials, the path’s project', async () => {
    expect((await get(`/v3/${OWNER}/volumes`, { token: null })).status).toBe(401);
    expect((await get(`/v3/${OTHER}/volumes`)).status).toBe(403);
  });

  it('is read-only: writes stay on the inventory’s API', async () => {
    const res = await fetch(`${baseUrl}/v3/${OWNER}/volumes`, {
      method: 'POST',
      headers: { 'X-Auth-Token': ownerToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ volume: { size: 1 } }),
    });
    expect(res.status).toBe(405);
  });

  it('answers 503 when the inventory is away', async () => {
    inventory.down = true;
    try {
      expect((await get(`/v3/${OWNER}/volumes`)).status).toBe(503);
    } finally {
      inventory.down = false;
    }
  });
});
