/**
 * The consumers' access rule over HTTP: the providers ConsumerModule
 * registers (the real token verifier, over a key pair generated here as the
 * local issuer's, and the global guard), in front of the real status
 * controller and a query route standing for billing's and audit's.
 */
import { ProcessMetrics } from '../../observability/src/process-metrics';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JwtKeySettings } from '../../auth/src/jwt-verifier.setup';
import { LocalTokenIssuer } from '../../auth/src/local-issuer';
import { ConsumerRuntime, ConsumerStatusController } from './consumer.module';
import { queryAccessProviders } from './query-access';

const IDP = 'https://idp.example.test/realms/evs';

@Controller('v1')
class ProbeQueryController {
  @Get('events')
  events(): { events: unknown[] } {
    return { events: [] };
  }
}

/** The runtime as /healthz and /metrics see it: in its group, nothing consumed. Not what is under test here. */
const runtime = {
  health: () =>
    Promise.resolve({
      status: 'ok',
      database: 'ok',
      consumer: { state: 'joined', group_id: 'evs-probe', topics: [], assignment: {}, lag: 0 },
    }),
  metrics: () => Promise.resolve({ since_start: { processed: 0 } }),
};

/** A port nothing listens on: the identity provider is away. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir: string;
let app: INestApplication;
let url: string;
let issuer: LocalTokenIssuer;
let keys: JwtKeySettings;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-access-'));
  keys = {
    jwtPublicKeyFile: path.join(dir, 'keys', 'jwt-public.pem'),
    jwtPrivateKeyFile: path.join(dir, 'keys', 'jwt-private.pem'),
    jwtIssuer: 'evs-transfer-local',
    jwtAudience: 'evs',
    clockSkewSeconds: 30,
    jwks: {
      url: `http://127.0.0.1:${await closedPort()}/certs`,
      issuer: IDP,
      audience: 'evs',
      algorithms: ['ES256'],
      projectClaim: 'project_id',
      rolesClaim: 'roles',
    },
  };
  const moduleRef = await Test.createTestingModule({
    controllers: [ConsumerStatusController, ProbeQueryController],
    providers: [{ provide: ConsumerRuntime, useValue: runtime }, { provide: ProcessMetrics, useValue: new ProcessMetrics() }, ...queryAccessProviders(keys)],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${((app.getHttpServer() as http.Server).address() as AddressInfo).port}`;
  // The verifier has created the local issuer's key pair (no key file existed): sign with its private half.
  issuer = LocalTokenIssuer.open(keys);
});

afterAll(async () => {
  await app?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const token = (roles: string[], signer: LocalTokenIssuer = issuer) =>
  signer.issueToken({ projectId: 'ops', userId: 'u-ops', roles, ttlSeconds: 60 });

async function get(route: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${route}`, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

/** The header of a token of the local issuer carrying `roles`. */
const tokenWith = async (roles: string[]) => ({ 'x-auth-token': await token(roles) });

describe('the consumers’ query routes', () => {
  it('answer an administrator’s token', async () => {
    expect(await get('/v1/events', await tokenWith(['admin']))).toEqual({ status: 200, body: { events: [] } });
    expect((await get('/v1/events', await tokenWith(['reader', 'member', 'admin']))).status).toBe(200);
  });

  it('refuse a request without credentials with 401 EVS.5401, saying a token is what they take', async () => {
    const answer = await get('/v1/events');
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: 'EVS.5401', message: expect.stringMatching(/X-Auth-Token/) } });
    // An access-key signature is not a credential here: the same refusal.
    const signed = await get('/v1/events', {
      authorization: 'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=host;x-sdk-date, Signature=00',
      'x-sdk-date': '20261128T093000Z',
    });
    expect(signed).toEqual(answer);
  });

  it('refuse a malformed, forged or expired token with 401 EVS.5401', async () => {
    const elsewhere = LocalTokenIssuer.open({
      ...keys,
      jwtPrivateKeyFile: path.join(dir, 'other', 'jwt-private.pem'),
      jwtPublicKeyFile: path.join(dir, 'other', 'jwt-public.pem'),
    });
    const expired = await issuer.issueToken({ projectId: 'ops', userId: 'u-ops', roles: ['admin'], ttlSeconds: 60 }, Date.now() - 3_600_000);
    for (const bad of ['x.y.z', 'not a token', await token(['admin'], elsewhere), expired]) {
      const answer = await get('/v1/events', { 'x-auth-token': bad });
      expect(answer.status, bad).toBe(401);
      expect(answer.body.error).toEqual({ code: 'EVS.5401', message: 'The X-Auth-Token is invalid or expired.' });
    }
  });

  it('refuse a valid token without the admin role with 403 EVS.5403, naming the role that would do', async () => {
    for (const roles of [['member'], ['reader'], [], ['Admin', 'auditor']]) {
      const answer = await get('/v1/events', await tokenWith(roles));
      expect(answer.status, roles.join(',')).toBe(403);
      expect(answer.body).toEqual({
        error: { code: 'EVS.5403', message: 'Policy forbids queries of this service for these credentials: it needs one of the roles admin.' },
      });
    }
  });

  it('answer 503 EVS.5503, not 401, when the identity provider’s keys cannot be fetched', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Math.floor(Date.now() / 1000);
    const providerToken = await new SignJWT({ iss: IDP, aud: 'evs', sub: 'u-ext', iat: now, exp: now + 600, project_id: 'ops', roles: ['admin'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k-1' })
      .sign(privateKey);
    const answer = await get('/v1/events', { 'x-auth-token': providerToken });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('EVS.5503');
    // The local issuer's tokens do not depend on the provider.
    expect((await get('/v1/events', await tokenWith(['admin']))).status).toBe(200);
  });
});

describe('/healthz and /metrics', () => {
  it('stay open to probes and Prometheus, with or without a token', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    expect((await get('/healthz', { 'x-auth-token': 'x.y.z' })).status).toBe(200);
    expect((await get('/metrics', await tokenWith(['member']))).status).toBe(200);
  });

  it('answers /metrics in the Prometheus text format, and as JSON to a client that asks for it', async () => {
    const scraped = await get('/metrics');
    expect(scraped.body).toMatch(/^process_cpu_seconds_total /m);
    expect((await get('/metrics', { accept: 'application/json' })).body).toEqual({ since_start: { processed: 0 } });
  });
});
