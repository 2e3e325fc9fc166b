import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutionContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessKeyStore } from '../../../../libs/auth/src/access-key-store';
import { LocalTokenIssuer } from '../../../../libs/auth/src/local-issuer';
import { VerifierUnavailableError } from '../../../../libs/auth/src/token-verifier';
import { loadConfig } from '../../../../libs/config/src/config';
import { DomainError } from '../../../../libs/domain/src/errors';
import type { HttpRequest } from '../http/http.types';
import { requestContext } from '../http/request-context';
import { AuthGuard } from './auth.guard';
import { createCredentialVerifier } from './auth.providers';

let dir: string;
let guard: AuthGuard;
let issuer: LocalTokenIssuer;
let store: AccessKeyStore;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-guard-'));
  const { auth, databases } = loadConfig({ DATA_DIR: dir });
  store = await AccessKeyStore.open(databases.accessKeys, { masterKeyFile: auth.accessKeyMasterKeyFile, masterKeyringDir: auth.accessKeyMasterKeyringDir });
  // The gateway creates the local issuer's keys when the public key is missing.
  guard = new AuthGuard(createCredentialVerifier(auth, store));
  issuer = LocalTokenIssuer.open(auth);
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function request(projectId: string, token?: string): HttpRequest {
  return {
    params: { projectId },
    headers: token === undefined ? {} : { 'x-auth-token': token },
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as HttpRequest;
}

function execution(req: HttpRequest): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
}

async function refusal(req: HttpRequest): Promise<DomainError> {
  const outcome = await guard.canActivate(execution(req)).catch((e: unknown) => e);
  expect(outcome).toBeInstanceOf(DomainError);
  return outcome as DomainError;
}

describe('AuthGuard', () => {
  it('lets a token of the path’s project through and records the principal', async () => {
    const token = await issuer.issueToken({ projectId: 'p1', userId: 'alice', roles: ['member'], ttlSeconds: 60 });
    const req = request('p1', token);
    await expect(guard.canActivate(execution(req))).resolves.toBe(true);
    expect(requestContext(req)).toMatchObject({ principal: { projectId: 'p1', userId: 'alice', roles: ['member'] }, pathProjectId: 'p1' });
  });

  it('refuses a missing or invalid token with Unauthenticated', async () => {
    const missing = await refusal(request('p1'));
    expect(missing.errorName).toBe('Unauthenticated');
    expect(missing.message).toMatch(/X-Auth-Token.*SDK-HMAC-SHA256/);
    expect((await refusal(request('p1', 'x.y.z'))).errorName).toBe('Unauthenticated');
  });

  it('answers DependencyUnavailable, not Unauthenticated, when the credentials cannot be checked', async () => {
    const unavailable = new AuthGuard({
      verify: () => Promise.reject(new VerifierUnavailableError('the key set could not be fetched')),
    });
    const outcome = await unavailable.canActivate(execution(request('p1', 'a.b.c'))).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(DomainError);
    expect((outcome as DomainError).errorName).toBe('DependencyUnavailable');
  });

  it('refuses another project’s path with Forbidden, after authenticating', async () => {
    const token = await issuer.issueToken({ projectId: 'p1', userId: 'alice', roles: [], ttlSeconds: 60 });
    const req = request('p2', token);
    expect((await refusal(req)).errorName).toBe('Forbidden');
    expect(requestContext(req).principal?.userId).toBe('alice');
  });
});
