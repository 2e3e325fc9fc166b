import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTokenIssuer, type IssuerSettings } from './local-issuer';
import {
  CredentialVerifierChain,
  InvalidCredentialsError,
  headersOnlyRequest,
  JwtTokenVerifier,
  type CredentialVerifier,
  type Principal,
} from './token-verifier';

let dir: string;
let settings: IssuerSettings;
let issuer: LocalTokenIssuer;
let verifier: JwtTokenVerifier;
let privateKey: crypto.KeyObject;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verifier-'));
  settings = {
    jwtPrivateKeyFile: path.join(dir, 'jwt-private.pem'),
    jwtPublicKeyFile: path.join(dir, 'jwt-public.pem'),
    jwtIssuer: 'test-issuer',
    jwtAudience: 'evs',
  };
  issuer = LocalTokenIssuer.open(settings);
  privateKey = crypto.createPrivateKey(fs.readFileSync(settings.jwtPrivateKeyFile));
  verifier = JwtTokenVerifier.fromPublicKeyFile(settings.jwtPublicKeyFile, { issuer: 'test-issuer', audience: 'evs' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const nowSeconds = () => Math.floor(Date.now() / 1000);

function custom(claims: Record<string, unknown>, key: crypto.KeyObject = privateKey) {
  const iat = nowSeconds();
  return new SignJWT({ project_id: 'p-1', roles: ['member'], ...claims })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer((claims.iss as string) ?? 'test-issuer')
    .setAudience((claims.aud as string) ?? 'evs')
    .setSubject((claims.sub as string) ?? 'u-1')
    .setIssuedAt(iat)
    .setExpirationTime((claims.exp as number) ?? iat + 600)
    .sign(key);
}

describe('JwtTokenVerifier', () => {
  it('returns the principal of a token the local issuer signed', async () => {
    const token = await issuer.issueToken({ projectId: 'p-1', userId: 'u-1', roles: ['member', 'reader'], ttlSeconds: 60 });
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': token }))).resolves.toEqual({
      userId: 'u-1',
      projectId: 'p-1',
      roles: ['member', 'reader'],
    });
  });

  it('does not apply when there is no X-Auth-Token', async () => {
    await expect(verifier.verify(headersOnlyRequest({}))).resolves.toBeNull();
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': '  ' }))).resolves.toBeNull();
  });

  it('accepts a token 20 s past expiry (clock tolerance 30 s) but not 60 s past', async () => {
    const iat = nowSeconds() - 600;
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': await custom({ iat, exp: nowSeconds() - 20 }) }))).resolves.not.toBeNull();
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': await custom({ iat, exp: nowSeconds() - 60 }) }))).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });

  it('refuses a token not yet valid beyond the tolerance', async () => {
    const token = await custom({ nbf: nowSeconds() + 120 });
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': token }))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it.each([
    ['signed by another key', () => custom({}, crypto.generateKeyPairSync('ed25519').privateKey)],
    ['of another issuer', () => custom({ iss: 'someone-else' })],
    ['for another audience', () => custom({ aud: 'other' })],
    ['without project_id', () => custom({ project_id: undefined })],
    ['with a malformed project_id', () => custom({ project_id: 'a b' })],
    ['with roles not a string list', () => custom({ roles: [1] })],
    ['unsigned (alg none)', async () => new UnsecuredJWT({ project_id: 'p-1', sub: 'u' }).setIssuer('test-issuer').setAudience('evs').setExpirationTime('1h').encode()],
    ['garbage', async () => 'not-a-jwt'],
  ])('refuses a token %s', async (_what, make) => {
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': await make() }))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});

describe('CredentialVerifierChain', () => {
  const fixed = (p: Principal | null): CredentialVerifier => ({ verify: async () => p });
  const alice: Principal = { userId: 'alice', projectId: 'pa', roles: [] };

  it('takes the first verifier that recognises the request', async () => {
    await expect(new CredentialVerifierChain([fixed(null), fixed(alice)]).verify(headersOnlyRequest({}))).resolves.toEqual(alice);
    await expect(new CredentialVerifierChain([fixed(null)]).verify(headersOnlyRequest({}))).resolves.toBeNull();
  });

  it('stops at invalid credentials instead of trying the next verifier', async () => {
    const chain = new CredentialVerifierChain([verifier, fixed(alice)]);
    await expect(chain.verify(headersOnlyRequest({ 'x-auth-token': 'bad' }))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});
