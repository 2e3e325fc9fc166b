/**
 * Tokens of an OpenID Connect provider, verified against its JWKS served by
 * a real local HTTP server, beside the local issuer's tokens.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportJWK, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localIssuerFromPublicKeyFile, oidcProvider, type OidcProviderSettings } from './jwt-issuers';
import { LocalTokenIssuer } from './local-issuer';
import { headersOnlyRequest, InvalidCredentialsError, JwtTokenVerifier, VerifierUnavailableError } from './token-verifier';

const IDP = 'https://idp.example.test/realms/evs';

/** A JWKS endpoint whose keys and behaviour a test can change, counting the fetches. */
class JwksServer {
  keys: JWK[] = [];
  mode: 'serve' | 'fail' | 'hang' = 'serve';
  fetches = 0;
  private readonly server = http.createServer((_req, res) => {
    this.fetches += 1;
    if (this.mode === 'hang') return; // never answers: the verifier's timeout must fire
    if (this.mode === 'fail') {
      res.writeHead(500).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/certs`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: crypto.KeyObject;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'ES256' | 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A provider's token: by default valid for ten minutes, with the provider's issuer and the gateway's audience. */
function providerToken(key: SigningKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const iat = nowSeconds();
  // A claim given as undefined is left out of the token.
  const all: Record<string, unknown> = { iss: IDP, aud: 'evs', sub: 'u-ext', iat, exp: iat + 600, project_id: 'p-ext', roles: ['member'], ...claims };
  const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

let dir: string;
let jwks: JwksServer;
let jwksUrl: string;
let es: SigningKey;
let rs: SigningKey;
let local: LocalTokenIssuer;
let localPublicKeyFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwks-'));
  localPublicKeyFile = path.join(dir, 'jwt-public.pem');
  local = LocalTokenIssuer.open({
    jwtPrivateKeyFile: path.join(dir, 'jwt-private.pem'),
    jwtPublicKeyFile: localPublicKeyFile,
    jwtIssuer: 'evs-local',
    jwtAudience: 'evs',
  });
  es = await signingKey('es-1', 'ES256');
  rs = await signingKey('rs-1', 'RS256');
  jwks = new JwksServer();
  jwksUrl = await jwks.start();
});

afterAll(async () => {
  await jwks.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  jwks.mode = 'serve';
  jwks.keys = [es.jwk, rs.jwk];
});

function provider(overrides: Partial<OidcProviderSettings> = {}) {
  return {
    jwksUrl,
    issuer: IDP,
    audience: 'evs',
    algorithms: ['ES256', 'RS256'] as const,
    projectClaim: 'project_id',
    rolesClaim: 'roles',
    ...overrides,
  } satisfies OidcProviderSettings;
}

/** A verifier trusting the local issuer and the provider, with its own key cache (so fetch counts start at zero). */
function verifier(
  options: { settings?: Partial<OidcProviderSettings>; skew?: number; cooldownMs?: number; timeoutMs?: number; cacheMaxAgeMs?: number } = {},
) {
  jwks.keys = jwks.keys.length === 0 ? [es.jwk, rs.jwk] : jwks.keys;
  const { cooldownMs, timeoutMs, cacheMaxAgeMs } = options;
  return new JwtTokenVerifier(
    [
      localIssuerFromPublicKeyFile(localPublicKeyFile, { issuer: 'evs-local', audience: 'evs' }),
      oidcProvider(provider(options.settings), { cooldownMs, timeoutMs, cacheMaxAgeMs }),
    ],
    { clockToleranceSeconds: options.skew ?? 30 },
  );
}

const check = (v: JwtTokenVerifier, token: string) => v.verify(headersOnlyRequest({ 'x-auth-token': token }));

describe('JwtTokenVerifier with an OpenID Connect provider (JWKS)', () => {
  it('accepts the provider’s ES256 and RS256 tokens, and the local issuer’s, in one verifier', async () => {
    const v = verifier();
    await expect(check(v, await providerToken(es))).resolves.toEqual({ userId: 'u-ext', projectId: 'p-ext', roles: ['member'] });
    await expect(check(v, await providerToken(rs, { roles: ['reader'] }))).resolves.toMatchObject({ roles: ['reader'] });
    const localToken = await local.issueToken({ projectId: 'p-loc', userId: 'u-loc', roles: ['admin'], ttlSeconds: 60 });
    await expect(check(v, localToken)).resolves.toEqual({ userId: 'u-loc', projectId: 'p-loc', roles: ['admin'] });
  });

  it('fetches the key set once and serves later tokens from its cache', async () => {
    const v = verifier();
    const before = jwks.fetches;
    for (let i = 0; i < 3; i++) await check(v, await providerToken(es));
    expect(jwks.fetches - before).toBe(1);
  });

  it.each([
    ['of an issuer nobody trusts', () => providerToken(es, { iss: 'https://evil.example.test' })],
    ['without an issuer', () => providerToken(es, { iss: undefined })],
    ['for another audience', () => providerToken(es, { aud: 'someone-else' })],
    ['without an audience', () => providerToken(es, { aud: undefined })],
    ['without a subject', () => providerToken(es, { sub: undefined })],
    ['expired a minute ago', () => providerToken(es, { iat: nowSeconds() - 600, exp: nowSeconds() - 60 })],
    ['not valid for another two minutes (nbf)', () => providerToken(es, { nbf: nowSeconds() + 120 })],
    ['without project_id', () => providerToken(es, { project_id: undefined })],
    ['with roles that are not a list of strings', () => providerToken(es, { roles: 'admin' })],
    ['signed by a key that is not in the set, under a known kid', async () => providerToken({ ...es, privateKey: (await signingKey('x', 'ES256')).privateKey })],
    ['naming the local issuer but signed by the provider', () => providerToken(es, { iss: 'evs-local' })],
  ])('refuses a token %s', async (_what, make) => {
    await expect(check(verifier(), await make())).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('refuses the provider’s issuer on a token signed with the local key', async () => {
    const localKey = crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'jwt-private.pem')));
    const token = await new SignJWT({ project_id: 'p', roles: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid: es.kid })
      .setIssuer(IDP)
      .setAudience('evs')
      .setSubject('u')
      .setExpirationTime('5m')
      .sign(localKey);
    await expect(check(verifier(), token)).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('refuses alg none and HS256 without asking the key set', async () => {
    const v = verifier();
    const before = jwks.fetches;
    const unsigned = new UnsecuredJWT({ project_id: 'p', roles: ['admin'] }).setIssuer(IDP).setAudience('evs').setSubject('u').setExpirationTime('5m').encode();
    // An HMAC keyed with bytes an attacker knows, e.g. a published key: it must never count as a signature.
    const hmac = await new SignJWT({ project_id: 'p', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: es.kid })
      .setIssuer(IDP)
      .setAudience('evs')
      .setSubject('u')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(es.jwk)));
    await expect(check(v, unsigned)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(check(v, hmac)).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(jwks.fetches).toBe(before);
  });

  it('refuses an algorithm left out of the allow-list even when the key set has its key', async () => {
    const v = verifier({ settings: { algorithms: ['ES256'] } });
    await expect(check(v, await providerToken(rs))).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(check(v, await providerToken(es))).resolves.not.toBeNull();
  });

  describe('clock skew', () => {
    it('tolerates an expiry or a not-before within the skew', async () => {
      const v = verifier({ skew: 30 });
      await expect(check(v, await providerToken(es, { iat: nowSeconds() - 600, exp: nowSeconds() - 20 }))).resolves.not.toBeNull();
      await expect(check(v, await providerToken(es, { nbf: nowSeconds() + 20 }))).resolves.not.toBeNull();
    });

    it('refuses them beyond the skew', async () => {
      const v = verifier({ skew: 10 });
      await expect(check(v, await providerToken(es, { iat: nowSeconds() - 600, exp: nowSeconds() - 20 }))).rejects.toBeInstanceOf(
        InvalidCredentialsError,
      );
      await expect(check(v, await providerToken(es, { nbf: nowSeconds() + 20 }))).rejects.toBeInstanceOf(InvalidCredentialsError);
    });

    it('cannot be configured beyond five minutes', () => {
      expect(() => verifier({ skew: 301 })).toThrow(/clock tolerance/);
      expect(() => verifier({ skew: -1 })).toThrow(/clock tolerance/);
    });
  });

  describe('key rotation', () => {
    it('refuses an unknown kid, asking the key set again at most once per cooldown', async () => {
      const v = verifier({ cooldownMs: 60_000 });
      await check(v, await providerToken(es));
      const before = jwks.fetches;
      const stranger = await signingKey('unknown-kid', 'ES256');
      await expect(check(v, await providerToken(stranger))).rejects.toBeInstanceOf(InvalidCredentialsError);
      await expect(check(v, await providerToken(stranger))).rejects.toBeInstanceOf(InvalidCredentialsError);
      // Within the cooldown of the first fetch, made-up kids cause no fetch at all.
      expect(jwks.fetches).toBe(before);
    });

    it('accepts a token of a key that appeared in the set after the last fetch', async () => {
      const v = verifier({ cooldownMs: 0 });
      await check(v, await providerToken(es));
      const next = await signingKey('es-2', 'ES256');
      await expect(check(v, await providerToken(next))).rejects.toBeInstanceOf(InvalidCredentialsError);
      jwks.keys = [es.jwk, next.jwk];
      await expect(check(v, await providerToken(next, { sub: 'after-rotation' }))).resolves.toMatchObject({ userId: 'after-rotation' });
    });

    it('refuses a token of a key removed from the set once the cached set has aged out', async () => {
      const v = verifier({ cooldownMs: 0, cacheMaxAgeMs: 200 });
      const next = await signingKey('es-3', 'ES256');
      jwks.keys = [es.jwk, next.jwk];
      await check(v, await providerToken(next));
      jwks.keys = [next.jwk];
      await new Promise((r) => setTimeout(r, 250));
      await expect(check(v, await providerToken(es))).rejects.toBeInstanceOf(InvalidCredentialsError);
      await expect(check(v, await providerToken(next))).resolves.not.toBeNull();
    });
  });

  describe('when the key set cannot be fetched', () => {
    it.each([
      ['answers 500', 'fail'],
      ['does not answer in time', 'hang'],
    ] as const)('says the verifier is unavailable (not that the token is bad) when the endpoint %s', async (_what, mode) => {
      jwks.mode = mode;
      const v = verifier({ timeoutMs: 300 });
      await expect(check(v, await providerToken(es))).rejects.toBeInstanceOf(VerifierUnavailableError);
    });

    it('says so too when nothing listens at the URL, and still verifies local tokens', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const v = verifier({ settings: { jwksUrl: `http://127.0.0.1:${port}/certs` } });
      await expect(check(v, await providerToken(es))).rejects.toBeInstanceOf(VerifierUnavailableError);
      const localToken = await local.issueToken({ projectId: 'p-loc', userId: 'u', roles: [], ttlSeconds: 60 });
      await expect(check(v, localToken)).resolves.toMatchObject({ projectId: 'p-loc' });
    });

    it('says so when the endpoint answers something that is not a key set', async () => {
      jwks.keys = 'nope' as unknown as JWK[];
      await expect(check(verifier(), await providerToken(es))).rejects.toBeInstanceOf(VerifierUnavailableError);
    });
  });

  describe('claim names', () => {
    it('reads project and roles from configured claims, nested ones by a dotted path', async () => {
      const v = verifier({ settings: { projectClaim: 'tenant', rolesClaim: 'realm_access.roles' } });
      const token = await providerToken(es, { project_id: undefined, roles: undefined, tenant: 'p-kc', realm_access: { roles: ['reader'] } });
      await expect(check(v, token)).resolves.toEqual({ userId: 'u-ext', projectId: 'p-kc', roles: ['reader'] });
    });

    it('finds a namespaced claim whose name holds dots as it is', async () => {
      const v = verifier({ settings: { rolesClaim: 'https://evs.example.test/roles' } });
      const token = await providerToken(es, { roles: undefined, 'https://evs.example.test/roles': ['admin'] });
      await expect(check(v, token)).resolves.toMatchObject({ roles: ['admin'] });
    });

    it('gives no roles when the roles claim is absent', async () => {
      await expect(check(verifier(), await providerToken(es, { roles: undefined }))).resolves.toMatchObject({ roles: [] });
    });
  });
});
