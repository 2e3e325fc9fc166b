/**
 * The business metrics as an operator's Prometheus sees them, summed over
 * the replicas of the cluster topology: one create moves `created` and the
 * pending gauge by exactly one, one accept moves `accepted` up and pending
 * back down by exactly one. Here rather than over the test stack because the
 * cluster pass runs one file at a time: nothing else creates transfers while
 * the counters are read. Last, a replica killed the way an operator's worst
 * day kills one puts the process-down alert in motion for exactly it, on
 * the rule file every deployment loads.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEnv, clusterTopology, killHost, restartHost } from '../support/cluster';
import { freePort } from '../support/consumer-process';
import { ROOT_DIR } from '../support/stack';
import { eventually, Tenant } from '../support/tenants';

const run = promisify(execFile);
const SCRIPT = 'infra/observability/prometheus.sh';
const topology = clusterTopology();

const CREATED = 'sum(evs_transfer_events_total{event="created"})';
const ACCEPTED = 'sum(evs_transfer_events_total{event="accepted"})';
const PENDING = 'max(evs_transfers_pending)';
/** Requests the gateways answered 202 on the create route, whatever their version prefix. */
const CREATE_ANSWERS = 'sum(http_server_request_duration_seconds_count{job="evs-gateway",http_request_method="POST",http_route=~".*/os-volume-transfer",http_response_status_code="202"})';

describe('Prometheus over the cluster topology', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-prometheus-cluster-'));
  let listen = '';
  const env = () => clusterEnv({ DATA_DIR: dataDir, PROMETHEUS_LISTEN: listen, PROMETHEUS_SCRAPE_INTERVAL: '1s' });

  async function value(expr: string): Promise<number> {
    const res = await fetch(`http://${listen}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
    expect(body.status, expr).toBe('success');
    return body.data.result.length === 0 ? 0 : Number(body.data.result[0].value[1]);
  }

  /** Waits for the expression to reach `wanted`, then checks it stays there over a few more scrapes: exactly, not at least. */
  async function settlesAt(expr: string, wanted: number): Promise<void> {
    await eventually(async () => (await value(expr)) === wanted, 30_000).catch(async () => {
      throw new Error(`${expr} is ${await value(expr)}, not ${wanted}`);
    });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await value(expr), expr).toBe(wanted);
  }

  beforeAll(async () => {
    listen = `127.0.0.1:${await freePort()}`;
    await run('bash', [SCRIPT, 'start'], { cwd: ROOT_DIR, env: env(), timeout: 300_000 });
  }, 300_000);

  afterAll(async () => {
    await run('bash', [SCRIPT, 'stop'], { cwd: ROOT_DIR, env: env() }).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('scrapes every replica of every kind, and the Temporal hosts', async () => {
    const up = await eventually(async () => {
      const res = await fetch(`http://${listen}/api/v1/query?query=up`);
      const result = ((await res.json()) as { data: { result: { metric: { job: string; instance: string }; value: [number, string] }[] } }).data.result;
      return result.length >= 18 && result.every((r) => r.value[1] === '1') ? result : null;
    }, 60_000);
    const perJob = new Map<string, number>();
    for (const r of up) perJob.set(r.metric.job, (perJob.get(r.metric.job) ?? 0) + 1);
    expect(Object.fromEntries(perJob)).toEqual({
      'evs-gateway': 2,
      'evs-inventory': 1,
      'evs-worker': 2,
      'evs-worker-sdk': 2,
      'evs-billing': 2,
      'evs-audit': 2,
      temporal: 7,
    });
  });

  it('one create: created +1 and pending +1; its accept: accepted +1 and pending -1', async () => {
    const owner = await Tenant.create('prom-a', { baseUrl: topology.apiUrl, inventoryUrl: topology.inventoryUrl, auth: topology.auth });
    const recipient = await Tenant.create('prom-b', { baseUrl: topology.apiUrl, inventoryUrl: topology.inventoryUrl, auth: topology.auth });
    const disk = await owner.createDisk();
    // Every series present and scraped at least once before the baseline is read.
    await eventually(async () => (await value('count(evs_transfers_pending)')) === 2, 30_000);
    const [created, accepted, pending, createAnswers] = await Promise.all([value(CREATED), value(ACCEPTED), value(PENDING), value(CREATE_ANSWERS)]);

    const res = await owner.createTransfer(disk.id);
    expect(res.status).toBe(202);
    await settlesAt(CREATED, created + 1);
    await settlesAt(PENDING, pending + 1);
    await settlesAt(CREATE_ANSWERS, createAnswers + 1);
    expect(await value(ACCEPTED)).toBe(accepted);

    expect((await recipient.acceptTransfer(res.body.transfer.id, res.body.transfer.auth_key)).status).toBe(202);
    await settlesAt(ACCEPTED, accepted + 1);
    await settlesAt(PENDING, pending);
    expect(await value(CREATED)).toBe(created + 1);
  });

  it('a billing replica and a worker killed: the process-down alert starts for exactly their targets, and ends when they are back', async () => {
    const downInstances = async (): Promise<string[]> => {
      const res = await fetch(`http://${listen}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { labels: { alertname: string; instance: string }; state: string }[] } };
      return body.data.alerts
        .filter((a) => a.labels.alertname === 'EvsProcessDown')
        .map((a) => a.labels.instance)
        .sort();
    };
    expect(await downInstances()).toEqual([]);
    await Promise.all([killHost('billing-2'), killHost('worker-2')]);
    try {
      // The worker's health port and its SDK metrics port both stop answering.
      const down = await eventually(async () => {
        const now = await downInstances();
        return now.length >= 3 ? now : null;
      }, 30_000);
      expect(down).toEqual(['127.0.0.52:30182', '127.0.0.52:30185', '127.0.0.62:30183']);
    } finally {
      await Promise.all([restartHost('billing-2'), restartHost('worker-2')]);
    }
    await eventually(async () => (await downInstances()).length === 0, 60_000);
  });
});
