/**
 * The Temporal server the cluster topology runs: the server proper on
 * PostgreSQL rather than the dev server, each of its services a process on
 * a host of its own, its Web UI, and our transfers found through its
 * PostgreSQL visibility store by the search attributes we provisioned.
 */
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { clusterEnv, clusterTopology } from '../support/cluster';
import { eventually, Tenant } from '../support/tenants';

const topology = clusterTopology();
const env = clusterEnv();
const namespace = env.TEMPORAL_NAMESPACE ?? 'default';

/** Temporal's numbering of its services in cluster_membership.role. */
const ROLES: Readonly<Record<number, string>> = { 1: 'frontend', 2: 'history', 3: 'matching', 4: 'worker' };

function temporalDatabaseUrl(): string {
  const url = new URL(topology.databaseUrl);
  url.pathname = '/temporal';
  return url.toString();
}

describe('the Temporal server of the cluster topology', () => {
  it('runs two frontends, two history, two matching and one worker service, each on its own host', async () => {
    const db = new Client({ connectionString: temporalDatabaseUrl() });
    await db.connect();
    try {
      // Members that heartbeat lately; a killed and restarted host leaves an old row behind under another host id.
      const { rows } = await db.query<{ role: number; rpc_address: string }>(
        `SELECT DISTINCT role, rpc_address FROM cluster_membership
          WHERE last_heartbeat > (now() AT TIME ZONE 'UTC') - interval '30 seconds' ORDER BY role, rpc_address`,
      );
      const members: Record<string, string[]> = {};
      for (const row of rows) (members[ROLES[row.role] ?? `role ${row.role}`] ??= []).push(row.rpc_address);
      expect(members).toEqual({
        frontend: ['127.0.0.81', '127.0.0.82'],
        history: ['127.0.0.83', '127.0.0.84'],
        matching: ['127.0.0.85', '127.0.0.86'],
        worker: ['127.0.0.87'],
      });
    } finally {
      await db.end();
    }
  });

  it('finds a transfer in its PostgreSQL visibility store by our search attributes', async () => {
    const owner = await Tenant.create('visibility', { baseUrl: topology.apiUrl, inventoryUrl: topology.inventoryUrl, auth: topology.auth });
    const { disk, transfer } = await owner.pendingTransfer();
    const connection = await Connection.connect({ address: topology.temporalAddress });
    try {
      const client = new TemporalClient({ connection, namespace });
      const found = await eventually(async () => {
        const listed = [];
        for await (const workflow of client.workflow.list({ query: `EvsTransferId = '${transfer.id}' AND EvsTransferState = 'pending'` })) {
          listed.push(workflow);
        }
        return listed.length === 1 ? listed[0] : null;
      }, 30_000);
      expect(found.searchAttributes.EvsDiskId).toEqual([disk.id]);
      expect(found.status.name).toBe('RUNNING');
    } finally {
      await connection.close();
    }
  });

  it('serves its Web UI, which reads our namespace from the cluster', async () => {
    const ui = `http://${env.TEMPORAL_LISTEN_IP}:${env.TEMPORAL_UI_PORT}`;
    const page = await fetch(`${ui}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const answer = await fetch(`${ui}/api/v1/namespaces/${namespace}`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ namespaceInfo: { name: namespace, state: 'NAMESPACE_STATE_REGISTERED' } });
  });
});
