import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadOrCreateServiceSecret,
  ServiceRequestVerifier,
  signServiceRequest,
  SERVICE_SIGNATURE_MAX_SKEW_MS,
  type SignedRequestParts,
} from './service-signature';
import { InvalidCredentialsError, type CredentialRequest } from './token-verifier';

const secret = Buffer.alloc(32, 3);
const T0 = Date.UTC(2026, 10, 28, 9, 30, 0);
const parts: SignedRequestParts = {
  method: 'POST',
  path: '/internal/v1/disks/6a1f0c3e-2b1d-4c59-9a43-0d2f6a7b9e10/transfer-lock',
  query: '',
  body: '{"project_id":"p-1","transfer_id":"0b9d7c1a-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}',
};

function asReceived(p: SignedRequestParts, authorization?: string): CredentialRequest {
  return {
    method: p.method,
    path: p.path,
    query: p.query,
    headers: authorization === undefined ? {} : { authorization },
    body: () => Promise.resolve(Buffer.from(p.body)),
  };
}

const verifierAt = (nowMs: number) => new ServiceRequestVerifier(secret, () => nowMs);

describe('service request signatures', () => {
  it('are accepted for the very request they were made for', async () => {
    const header = signServiceRequest(secret, parts, { nowMs: T0 });
    expect(header).toMatch(/^EVS-HMAC-SHA256 Date=20261128T093000Z, Nonce=[0-9a-f]{32}, Signature=[0-9a-f]{64}$/);
    await expect(verifierAt(T0).verify(asReceived(parts, header))).resolves.toBe(true);
  });

  it('do not apply to a request without Authorization', async () => {
    await expect(verifierAt(T0).verify(asReceived(parts))).resolves.toBe(false);
  });

  it.each<[string, Partial<SignedRequestParts>]>([
    ['another method', { method: 'PUT' }],
    ['another path', { path: '/internal/v1/disks/6a1f0c3e-2b1d-4c59-9a43-0d2f6a7b9e11/transfer-lock' }],
    ['another query', { query: 'x=1' }],
    ['another body', { body: parts.body.toString().replace('p-1', 'p-2') }],
  ])('are refused for %s than was signed', async (_what, change) => {
    const header = signServiceRequest(secret, parts, { nowMs: T0 });
    await expect(verifierAt(T0).verify(asReceived({ ...parts, ...change }, header))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('are refused under another secret', async () => {
    const header = signServiceRequest(crypto.randomBytes(32), parts, { nowMs: T0 });
    await expect(verifierAt(T0).verify(asReceived(parts, header))).rejects.toThrow('signature does not match');
  });

  it('are accepted within the allowed clock skew either way, and refused beyond it', async () => {
    for (const offset of [-SERVICE_SIGNATURE_MAX_SKEW_MS, SERVICE_SIGNATURE_MAX_SKEW_MS]) {
      const header = signServiceRequest(secret, parts, { nowMs: T0 + offset });
      await expect(verifierAt(T0).verify(asReceived(parts, header))).resolves.toBe(true);
    }
    for (const offset of [-SERVICE_SIGNATURE_MAX_SKEW_MS - 1000, SERVICE_SIGNATURE_MAX_SKEW_MS + 1000]) {
      const header = signServiceRequest(secret, parts, { nowMs: T0 + offset });
      await expect(verifierAt(T0).verify(asReceived(parts, header))).rejects.toThrow('clock skew');
    }
  });

  it('are refused the second time the same nonce comes within the window', async () => {
    const verifier = verifierAt(T0);
    const header = signServiceRequest(secret, parts, { nowMs: T0 });
    await expect(verifier.verify(asReceived(parts, header))).resolves.toBe(true);
    await expect(verifier.verify(asReceived(parts, header))).rejects.toThrow('nonce already used');
    const fresh = signServiceRequest(secret, parts, { nowMs: T0 });
    await expect(verifier.verify(asReceived(parts, fresh))).resolves.toBe(true);
  });

  it.each([
    ['a bearer token', `Bearer ${secret.toString('hex')}`],
    ['another scheme', 'SDK-HMAC-SHA256 Access=x, SignedHeaders=host, Signature=00'],
    ['a date that does not exist', signServiceRequest(secret, parts, { nowMs: T0 }).replace('20261128', '20261131')],
    ['a short signature', signServiceRequest(secret, parts, { nowMs: T0 }).slice(0, -2)],
    ['an upper-case signature', signServiceRequest(secret, parts, { nowMs: T0 }).replace(/Signature=(\w+)$/, (_m, s: string) => `Signature=${s.toUpperCase()}`)],
  ])('are refused when the header is %s', async (_what, header) => {
    await expect(verifierAt(T0).verify(asReceived(parts, header))).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('need a secret of the right size', () => {
    expect(() => new ServiceRequestVerifier(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('loadOrCreateServiceSecret', () => {
  it('creates one secret (0600) that every later caller reads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'service-secret-'));
    try {
      const file = path.join(dir, 'keys', 'inventory-service-secret');
      const first = loadOrCreateServiceSecret(file);
      expect(first).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(loadOrCreateServiceSecret(file).equals(first)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
