/**
 * What Prometheus scrapes in the cluster topology: every process on its own
 * address, in the Prometheus text format; never through the public API
 * address, which answers 404 for /metrics.
 */
import { describe, expect, it } from 'vitest';
import { clusterEnv, clusterTopology } from '../support/cluster';

const topology = clusterTopology();
const env = clusterEnv();

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(res.status, url).toBe(200);
  expect(res.headers.get('content-type'), url).toMatch(/^text\/plain/);
  return res.text();
}

describe('metrics in the cluster topology', () => {
  it('every gateway, inventory, worker and consumer replica serves its own /metrics', async () => {
    const workers = ['127.0.0.51', '127.0.0.52'].map((host) => `http://${host}:${env.WORKER_HEALTH_PORT}`);
    const apps = [...topology.gatewayUrls, topology.inventoryUrl, ...workers, ...topology.billingUrls, ...topology.auditUrls];
    for (const base of apps) expect(await scrape(`${base}/metrics`), base).toMatch(/^process_cpu_seconds_total /m);
    for (const base of [...topology.billingUrls, ...topology.auditUrls]) {
      expect(await scrape(`${base}/metrics`), base).toMatch(/^kafka_consumergroup_lag\{consumergroup="evs-(billing|audit)",topic="[^"]+",partition="\d+"\} \d+$/m);
    }
  });

  it("each worker's Temporal SDK and each Temporal server host serve Temporal's own metrics", async () => {
    for (const host of ['127.0.0.51', '127.0.0.52']) {
      expect(await scrape(`http://${host}:${env.WORKER_SDK_METRICS_PORT}/metrics`)).toMatch(/^temporal_num_pollers\{/m);
    }
    for (const host of ['127.0.0.81', '127.0.0.83', '127.0.0.85', '127.0.0.87']) {
      expect(await scrape(`http://${host}:37290/metrics`), host).toMatch(/^# TYPE \w+ /m);
    }
  });

  it('the public API address does not serve /metrics', async () => {
    expect((await fetch(`${topology.apiUrl}/metrics`)).status).toBe(404);
  });
});
