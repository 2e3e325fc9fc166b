/**
 * The observability kit against a real Prometheus: the alert rules pass
 * promtool's unit tests, and a Prometheus started by our own script for the
 * test stack scrapes every process of it, finds the metrics the rules and
 * docs/operations.md name, and evaluates every rule without an error.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/consumer-process';
import { ROOT_DIR } from '../support/stack';
import { eventually } from '../support/tenants';

const run = promisify(execFile);
const SCRIPT = 'infra/observability/prometheus.sh';
const JOBS = ['evs-gateway', 'evs-inventory', 'evs-worker', 'evs-worker-sdk', 'evs-billing', 'evs-audit', 'temporal'];

describe('Prometheus over the test stack', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-prometheus-'));
  let listen = '';
  const env = () => ({ ...process.env, EVS_ENV: 'test', DATA_DIR: dataDir, PROMETHEUS_LISTEN: listen, PROMETHEUS_SCRAPE_INTERVAL: '1s' });

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://${listen}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status, expr).toBe('success');
    return body.data.result;
  }

  beforeAll(async () => {
    listen = `127.0.0.1:${await freePort()}`;
    await run('bash', [SCRIPT, 'start'], { cwd: ROOT_DIR, env: env(), timeout: 300_000 });
  }, 300_000);

  afterAll(async () => {
    await run('bash', [SCRIPT, 'stop'], { cwd: ROOT_DIR, env: env() }).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the alert rules pass promtool check and their unit tests', async () => {
    const checked = await run('promtool', ['check', 'rules', 'infra/observability/alerts.yml'], { cwd: ROOT_DIR });
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tested = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: path.join(ROOT_DIR, 'infra/observability') });
    expect(tested.stdout).toContain('SUCCESS');
  });

  it('scrapes every process of the stack', async () => {
    const up = await eventually(async () => {
      const result = await query('up');
      const healthy = new Set(result.filter((r) => r.value[1] === '1').map((r) => r.metric.job));
      return JOBS.every((job) => healthy.has(job)) ? result : null;
    }, 60_000);
    expect(up.map((r) => r.metric.job).sort()).toEqual([...JOBS].sort());
  });

  it('finds the metrics the rules and the runbook name', async () => {
    for (const name of [
      'http_server_request_duration_seconds_count{job="evs-gateway"}',
      'http_server_request_duration_seconds_count{job="evs-inventory"}',
      'evs_transfers_pending',
      'evs_transfer_pending_past_expiry_seconds',
      'evs_outbox_oldest_age_seconds',
      'kafka_consumergroup_lag_sum',
      'temporal_num_pollers{poller_type="workflow_task"}',
      'process_cpu_seconds_total{job="evs-worker"}',
    ]) {
      await eventually(async () => (await query(name)).length > 0, 30_000).catch(() => {
        throw new Error(`Prometheus has no series for ${name}`);
      });
    }
  });

  it("evaluates every query of the Grafana dashboard, and those about what always exists have data", async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'infra/observability/grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })));
    expect(queries.length).toBeGreaterThan(15);
    // Rates need two samples of each series; the stack has been scraped every second since the first test.
    const alwaysThere = new Set(['Transfers pending', 'Worker pollers', 'CPU per process', 'Resident memory', 'Consumer lag', 'Processes up']);
    for (const { panel, expr } of queries) {
      const result = await query(expr);
      if (alwaysThere.has(panel)) {
        await eventually(async () => (await query(expr)).length > 0, 30_000).catch(() => {
          throw new Error(`the panel ${panel} shows nothing: ${expr}`);
        });
      } else {
        expect(Array.isArray(result), panel).toBe(true);
      }
    }
  });

  it('loads every alert rule and evaluates each without an error', async () => {
    const rules = await eventually(async () => {
      const res = await fetch(`http://${listen}/api/v1/rules?type=alert`);
      const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] } };
      const all = body.data.groups.flatMap((g) => g.rules);
      // Evaluated at least once since the series arrived.
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : null;
    }, 30_000);
    expect(rules.map((r) => r.name).sort()).toEqual([
      'EvsAcceptErrorRatioHigh',
      'EvsAcceptLockoutsSpiking',
      'EvsConsumerLagGrowing',
      'EvsCreateErrorRatioHigh',
      'EvsLatencyP99High',
      'EvsOutboxBacklog',
      'EvsProcessDown',
      'EvsTransferExpiryNotFiring',
      'EvsWorkerNoPollers',
    ]);
    for (const rule of rules) expect(rule.lastError ?? '', rule.name).toBe('');
    expect(rules.every((r) => r.health === 'ok')).toBe(true);
  });
});
