/**
 * /metrics on the gateway: open, in the Prometheus text format, with the
 * Node runtime's metrics and every request timed under its route template.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../libs/config/src/config';
import { listenGateway } from './gateway.test-harness';

let dir: string;
let app: INestApplication;
let baseUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-metrics-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  ({ app, url: baseUrl } = await listenGateway(config, {}, { publish: async () => undefined }));
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('answers without credentials in the Prometheus text format, with process and Node runtime metrics', async () => {
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name}[ {]`, 'm'));
    }
  });

  it('times requests by route template and status, never by the raw URL', async () => {
    await fetch(`${baseUrl}/v2/project-a/os-volume-transfer/0b8f1d1e-0000-4000-8000-000000000001`);
    await fetch(`${baseUrl}/no/such/route`);
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(text).toMatch(
      /^http_server_request_duration_seconds_count\{http_request_method="GET",http_route="\/v2\/\{projectId\}\/os-volume-transfer\/\{transferId\}",http_response_status_code="401"\} 1$/m,
    );
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{http_request_method="GET",http_route="unmatched",http_response_status_code="404"\} 1$/m);
    expect(text).not.toContain('0b8f1d1e');
    expect(text).not.toContain('/no/such/route');
  });

  it('keeps the series count bounded under a flood of odd paths, project ids and methods', async () => {
    const seriesOf = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`)).length;
    const before = await (await fetch(`${baseUrl}/metrics`)).text();
    const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'];
    for (let i = 0; i < 120; i += 1) {
      const project = `p-${i}-${Math.random().toString(36).slice(2)}`;
      const paths = [`/v2/${project}/os-volume-transfer/${i}`, `/v3/${project}/volume-transfers/x${i}/accept`, `/odd/${i}/%2e%2e/${project}`, `/v2/${project}?q=${i}`];
      await fetch(`${baseUrl}${paths[i % paths.length]}`, { method: methods[i % methods.length] });
    }
    const after = await (await fetch(`${baseUrl}/metrics`)).text();
    // 120 distinct URLs, ids and projects: a handful of new series (route template x method x status), not one each.
    expect(seriesOf(after, 'http_server_request_duration_seconds_count') - seriesOf(before, 'http_server_request_duration_seconds_count')).toBeLessThan(30);
    expect(seriesOf(after, 'evs_api_refusals_total')).toBeLessThan(30);
    expect(after).not.toMatch(/p-\d+-/);
  });

  it('counts refusals by route and EVS error code, and reports the pending transfers', async () => {
    await fetch(`${baseUrl}/v2/project-a/os-volume-transfer`);
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(text).toMatch(/^evs_api_refusals_total\{http_route="\/v2\/\{projectId\}\/os-volume-transfer",code="EVS\.\d+"\} 1$/m);
    expect(text).toMatch(/^evs_transfers_pending 0$/m);
    expect(text).toMatch(/^evs_transfer_oldest_pending_age_seconds 0$/m);
    expect(text).toMatch(/^evs_transfer_pending_past_expiry_seconds 0$/m);
  });
});
