/**
 * Tokens of an external OpenID Connect provider, through a second gateway
 * configured with JWT_JWKS_URL pointing at a JWKS endpoint this test serves
 * (the same Temporal server, worker, Kafka and inventory as every other
 * test). The provider names the project and roles under claims of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR, testEnv } from '../support/stack';
import { call, eventually, Tenant, uniqueProjectId } from '../support/tenants';

const ISSUER = 'https://idp.example.test/realms/evs';
const KID = 'idp-key-1';

let jwks: http.Server;
let jwksMode: 'serve' | 'fail' = 'serve';
let publicJwk: JWK;
let privateKey: crypto.KeyObject;
let gateway: ChildProcess;
let gatewayUrl: string;

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A token as the provider would sign it (ES256), for `project`, with Keycloak-style nested roles. */
function providerToken(project: string, options: { roles?: string[]; audience?: string } = {}): Promise<string> {
  return new SignJWT({ tenant_id: project, realm_access: { roles: options.roles ?? ['member'] } })
    .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? 'evs-gateway')
    .setSubject('ext-user-1')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
}

beforeAll(async () => {
  const pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  jwks = http.createServer((_req, res) => {
    if (jwksMode === 'fail') res.writeHead(503).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/protocol/openid-connect/certs`;

  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  gateway = spawn('node', ['dist/apps/gateway/src/main.js'], {
    cwd: ROOT_DIR,
    env: testEnv({
      GATEWAY_PORT: String(port),
      JWT_JWKS_URL: jwksUrl,
      JWT_JWKS_ISSUER: ISSUER,
      JWT_JWKS_AUDIENCE: 'evs-gateway',
      JWT_JWKS_ALGORITHMS: 'ES256',
      JWT_JWKS_PROJECT_CLAIM: 'tenant_id',
      JWT_JWKS_ROLES_CLAIM: 'realm_access.roles',
      LOG_LEVEL: 'warn',
    }),
    stdio: 'ignore',
  });
  await eventually(async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 30_000);
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
  jwks?.closeAllConnections();
  await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
});

describe('tokens of an OpenID Connect provider (JWT_JWKS_URL)', () => {
  it('answers 503, not 401, while the key set cannot be fetched, and works once it can', async () => {
    const project = uniqueProjectId('oidc-down');
    const token = await providerToken(project);
    jwksMode = 'fail';
    try {
      const down = await call('GET', `/v3/${project}/os-volume-transfer`, { token, baseUrl: gatewayUrl });
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('EVS.5503');
    } finally {
      jwksMode = 'serve';
    }
    expect((await call('GET', `/v3/${project}/os-volume-transfer`, { token, baseUrl: gatewayUrl })).status).toBe(200);
  });

  it('creates and shows a transfer with an externally signed token', async () => {
    // The disk belongs to the project the provider's token names.
    const owner = await Tenant.create('oidc');
    const disk = await owner.createDisk({ size: 8 });
    const token = await providerToken(owner.projectId);

    const created = await call('POST', `/v3/${owner.projectId}/os-volume-transfer`, {
      token,
      baseUrl: gatewayUrl,
      body: { transfer: { volume_id: disk.id, name: 'from-the-idp' } },
    });
    expect(created.status).toBe(202);
    const { transfer } = created.body;
    expect(transfer).toMatchObject({ volume_id: disk.id, name: 'from-the-idp' });

    const shown = await call('GET', `/v3/${owner.projectId}/os-volume-transfer/${transfer.id}`, { token, baseUrl: gatewayUrl });
    expect(shown.status).toBe(200);
    expect(shown.body.transfer).toMatchObject({ id: transfer.id, volume_id: disk.id });
    expect((await owner.disk(disk.id))?.status).toBe('awaiting-transfer');

    // The local issuer's tokens still work on the same gateway; the owner tidies up with one.
    expect((await owner.via(gatewayUrl).deleteTransfer(transfer.id)).status).toBe(202);
  });

  it('applies the policy to the provider’s roles, and refuses its tokens for another audience', async () => {
    const project = uniqueProjectId('oidc-roles');
    const path = `/v3/${project}/os-volume-transfer`;
    const reader = await providerToken(project, { roles: ['reader'] });
    expect((await call('GET', path, { token: reader, baseUrl: gatewayUrl })).status).toBe(200);
    const refused = await call('POST', path, { token: reader, baseUrl: gatewayUrl, body: { transfer: { volume_id: crypto.randomUUID() } } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('EVS.5403');
    const elsewhere = await providerToken(project, { audience: 'another-service' });
    expect((await call('GET', path, { token: elsewhere, baseUrl: gatewayUrl })).status).toBe(401);
  });
});
