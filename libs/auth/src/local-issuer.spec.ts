import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureSigningKeys, LocalTokenIssuer, type IssuerSettings } from './local-issuer';

let dir: string;
let settings: IssuerSettings;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'issuer-'));
  settings = {
    jwtPrivateKeyFile: path.join(dir, 'keys', 'jwt-private.pem'),
    jwtPublicKeyFile: path.join(dir, 'keys', 'jwt-public.pem'),
    jwtIssuer: 'test-issuer',
    jwtAudience: 'evs',
  };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ensureSigningKeys', () => {
  it('creates an Ed25519 pair in PEM, the private key 0600, and keeps it on later starts', () => {
    ensureSigningKeys({ privateKeyFile: settings.jwtPrivateKeyFile, publicKeyFile: settings.jwtPublicKeyFile });
    const privatePem = fs.readFileSync(settings.jwtPrivateKeyFile, 'utf8');
    const publicPem = fs.readFileSync(settings.jwtPublicKeyFile, 'utf8');
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(fs.statSync(settings.jwtPrivateKeyFile).mode & 0o777).toBe(0o600);
    expect(crypto.createPublicKey(publicPem).asymmetricKeyType).toBe('ed25519');

    ensureSigningKeys({ privateKeyFile: settings.jwtPrivateKeyFile, publicKeyFile: settings.jwtPublicKeyFile });
    expect(fs.readFileSync(settings.jwtPrivateKeyFile, 'utf8')).toBe(privatePem);
    expect(fs.readFileSync(settings.jwtPublicKeyFile, 'utf8')).toBe(publicPem);
  });

  it('derives a missing public key from the existing private key', () => {
    const files = { privateKeyFile: settings.jwtPrivateKeyFile, publicKeyFile: settings.jwtPublicKeyFile };
    ensureSigningKeys(files);
    const publicPem = fs.readFileSync(files.publicKeyFile, 'utf8');
    fs.rmSync(files.publicKeyFile);
    ensureSigningKeys(files);
    expect(fs.readFileSync(files.publicKeyFile, 'utf8')).toBe(publicPem);
  });
});

describe('LocalTokenIssuer', () => {
  it('issues an EdDSA JWT with iss, aud, sub, project_id, roles, iat, nbf and exp', async () => {
    const issuer = LocalTokenIssuer.open(settings);
    const now = Date.UTC(2026, 0, 1);
    const token = await issuer.issueToken({ projectId: 'p-1', userId: 'u-1', roles: ['member'], ttlSeconds: 600 }, now);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'test-issuer',
      aud: 'evs',
      sub: 'u-1',
      project_id: 'p-1',
      roles: ['member'],
      iat: now / 1000,
      nbf: now / 1000,
      exp: now / 1000 + 600,
    });
    expect(typeof claims.jti).toBe('string');
  });

  it.each([
    [{ projectId: 'bad project', userId: 'u', roles: [], ttlSeconds: 60 }, /projectId/],
    [{ projectId: 'p', userId: '', roles: [], ttlSeconds: 60 }, /userId/],
    [{ projectId: 'p', userId: 'u', roles: [''], ttlSeconds: 60 }, /roles/],
    [{ projectId: 'p', userId: 'u', roles: [], ttlSeconds: 0 }, /ttlSeconds/],
    [{ projectId: 'p', userId: 'u', roles: [], ttlSeconds: 1.5 }, /ttlSeconds/],
  ])('refuses bad input %#', async (request, message) => {
    const issuer = LocalTokenIssuer.open(settings);
    await expect(issuer.issueToken(request)).rejects.toThrow(message);
  });
});
