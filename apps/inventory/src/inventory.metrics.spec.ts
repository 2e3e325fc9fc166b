/**
 * /metrics on the inventory: open, in the Prometheus text format, every
 * request timed under its route template (tenant and internal routes alike).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJwtTokenVerifier } from '../../../libs/auth/src/jwt-verifier.setup';
import { createInventoryApp } from './inventory.app';

let dir: string;
let app: INestApplication;
let baseUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inventory-metrics-'));
  const tokenVerifier = openJwtTokenVerifier({
    jwtPublicKeyFile: path.join(dir, 'keys', 'jwt-public.pem'),
    jwtPrivateKeyFile: path.join(dir, 'keys', 'jwt-private.pem'),
    jwtIssuer: 'test-issuer',
    jwtAudience: 'evs',
    clockSkewSeconds: 30,
    jwks: null,
  });
  app = await createInventoryApp(
    {
      store: { target: { dialect: 'sqlite', file: path.join(dir, 'inventory.sqlite') }, defaultQuota: { volumes: 20, gigabytes: 2000 }, clock: () => Date.now() },
      auth: { serviceSecret: randomBytes(32), tokenVerifier },
    },
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('answers without credentials with the runtime metrics and each request under its route template', async () => {
    await fetch(`${baseUrl}/v3/project-a/volumes/0b8f1d1e-0000-4000-8000-000000000001`);
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{http_request_method="GET",http_route="\/v3\/\{[A-Za-z_]+\}\/volumes\/\{[A-Za-z_]+\}",http_response_status_code="401"\} 1$/m);
    expect(text).not.toContain('0b8f1d1e');
  });
});
