import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openJwtTokenVerifier, type JwtKeySettings } from './jwt-verifier.setup';
import { LocalTokenIssuer } from './local-issuer';
import { headersOnlyRequest, InvalidCredentialsError } from './token-verifier';

let dir: string;
const settingsIn = (folder: string): JwtKeySettings => ({
  jwtPublicKeyFile: path.join(folder, 'jwt-public.pem'),
  jwtPrivateKeyFile: path.join(folder, 'jwt-private.pem'),
  jwtIssuer: 'test-issuer',
  jwtAudience: 'evs',
  clockSkewSeconds: 30,
  jwks: null,
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-setup-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('openJwtTokenVerifier', () => {
  it("creates the local issuer's key pair when the public key is missing, and says so", async () => {
    const settings = settingsIn(dir);
    const created: string[] = [];
    const verifier = openJwtTokenVerifier(settings, (file) => created.push(file));
    expect(created).toEqual([settings.jwtPublicKeyFile]);
    const token = await LocalTokenIssuer.open(settings).issueToken({ projectId: 'p-1', userId: 'u', roles: [], ttlSeconds: 60 });
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': token }))).resolves.toMatchObject({ projectId: 'p-1' });
  });

  it('uses an existing public key as it is, so tokens of another signer are refused', async () => {
    const ours = settingsIn(path.join(dir, 'ours'));
    const theirs = settingsIn(path.join(dir, 'theirs'));
    LocalTokenIssuer.open(ours);
    const created: string[] = [];
    const verifier = openJwtTokenVerifier(ours, (file) => created.push(file));
    expect(created).toEqual([]);
    const foreign = await LocalTokenIssuer.open(theirs).issueToken({ projectId: 'p-1', userId: 'u', roles: [], ttlSeconds: 60 });
    await expect(verifier.verify(headersOnlyRequest({ 'x-auth-token': foreign }))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});
