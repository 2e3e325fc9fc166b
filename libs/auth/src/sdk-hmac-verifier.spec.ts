import type { IncomingHttpHeaders } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/src/errors';
import type { AccessKeyLookup, ActiveAccessKey } from './access-key-store';
import { SDK_VECTORS, type SdkVector } from './sdk-hmac.fixtures';
import { formatSdkDate, sdkHmacSignature, canonicalRequest, sha256Hex } from './sdk-hmac-signature';
import { ReplayCache, SdkHmacVerifier } from './sdk-hmac-verifier';
import { type CredentialRequest, InvalidCredentialsError } from './token-verifier';

const [CREATE, LIST] = SDK_VECTORS as [SdkVector, SdkVector];
const WINDOW_MS = 5 * 60_000;

/** Keys as the store would answer; `revoked` ones answer null, like the store. */
class Keys implements AccessKeyLookup {
  readonly revoked = new Set<string>();
  readonly keys = new Map<string, ActiveAccessKey>();
  lookups = 0;

  add(accessKeyId: string, secretKey: string, projectId: string): this {
    this.keys.set(accessKeyId, { secretKey, principal: { userId: `user-of-${projectId}`, projectId, roles: ['member'] } });
    return this;
  }

  async findActive(accessKeyId: string): Promise<ActiveAccessKey | null> {
    this.lookups++;
    return this.revoked.has(accessKeyId) ? null : (this.keys.get(accessKeyId) ?? null);
  }
}

interface Sent extends CredentialRequest {
  bodyReads: number;
}

function request(vector: SdkVector, change: Partial<Omit<SdkVector, 'headers'>> & { headers?: IncomingHttpHeaders } = {}): Sent {
  const sent: Sent = {
    method: change.method ?? vector.method,
    path: change.path ?? vector.path,
    query: change.query ?? vector.query,
    headers: { ...vector.headers, ...change.headers },
    bodyReads: 0,
    body: () => {
      sent.bodyReads++;
      return Promise.resolve(change.body ?? vector.body);
    },
  };
  return sent;
}

/** Signs like the SDK does, for cases the recorded vectors do not cover (other dates, headers). */
function resign(vector: SdkVector, headers: IncomingHttpHeaders, signedHeaders: string[], secretKey = vector.secretKey): IncomingHttpHeaders {
  const all = { ...vector.headers, ...headers };
  const canonical = canonicalRequest({
    method: vector.method,
    path: vector.path,
    query: vector.query,
    headers: all,
    signedHeaders,
    payloadHash: sha256Hex(vector.body),
  })!;
  const signature = sdkHmacSignature(secretKey, String(all['x-sdk-date']), canonical);
  return {
    ...all,
    authorization: `SDK-HMAC-SHA256 Access=${vector.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
  };
}

let keys: Keys;
let nowMs: number;
let verifier: SdkHmacVerifier;

beforeEach(() => {
  keys = new Keys().add(CREATE.accessKeyId, CREATE.secretKey, CREATE.projectId);
  nowMs = CREATE.signedAtMs + 1000;
  verifier = new SdkHmacVerifier(keys, { windowMs: WINDOW_MS, now: () => nowMs });
});

async function refusal(sent: CredentialRequest): Promise<InvalidCredentialsError> {
  const outcome = await verifier.verify(sent).catch((e: unknown) => e);
  expect(outcome).toBeInstanceOf(InvalidCredentialsError);
  return outcome as InvalidCredentialsError;
}

describe('SdkHmacVerifier', () => {
  it('accepts what the official SDK signed, as the key’s user, project and roles', async () => {
    await expect(verifier.verify(request(CREATE))).resolves.toEqual({ userId: 'user-of-project-a', projectId: 'project-a', roles: ['member'] });
    await expect(verifier.verify(request(LIST))).resolves.toMatchObject({ projectId: 'project-a' });
  });

  it('leaves requests without an SDK-HMAC-SHA256 Authorization to other verifiers', async () => {
    await expect(verifier.verify(request(CREATE, { headers: { authorization: undefined } }))).resolves.toBeNull();
    await expect(verifier.verify(request(CREATE, { headers: { authorization: 'Bearer x' } }))).resolves.toBeNull();
  });

  it.each<[string, Parameters<typeof request>[1]]>([
    ['the method', { method: 'PUT' }],
    ['the path', { path: '/v2/project-a/os-volume-transfer/detail' }],
    ['the query', { query: 'limit=1' }],
    ['a signed header', { headers: { 'user-agent': 'curl/8' } }],
    ['the body', { body: Buffer.from(CREATE.body.toString().replace('to team B', 'to team C')) }],
    ['the date', { headers: { 'x-sdk-date': formatSdkDate(CREATE.signedAtMs + 1000) } }],
    ['the access key', { headers: { authorization: CREATE.headers.authorization.replace(CREATE.accessKeyId, 'AAAAAAAAAAAAAAAAAAAA') } }],
    ['the signature', { headers: { authorization: CREATE.headers.authorization.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } }],
  ])('refuses a request whose %s changed after signing', async (_what, change) => {
    keys.add('AAAAAAAAAAAAAAAAAAAA', 'another-secret', 'project-a');
    await refusal(request(CREATE, change));
  });

  it('refuses a signature made with another secret key', async () => {
    keys.add(CREATE.accessKeyId, `${CREATE.secretKey}x`, CREATE.projectId);
    await refusal(request(CREATE));
  });

  it('refuses an unknown or revoked key before reading the body', async () => {
    keys.revoked.add(CREATE.accessKeyId);
    const sent = request(CREATE);
    await refusal(sent);
    expect(sent.bodyReads).toBe(0);
    keys.revoked.clear();
    await expect(verifier.verify(request(CREATE))).resolves.not.toBeNull();
  });

  it('accepts a date up to the window away either way, and not beyond', async () => {
    nowMs = CREATE.signedAtMs + WINDOW_MS;
    await expect(verifier.verify(request(LIST))).resolves.not.toBeNull();
    nowMs = CREATE.signedAtMs - WINDOW_MS;
    await expect(verifier.verify(request(LIST))).resolves.not.toBeNull();
    nowMs = CREATE.signedAtMs + WINDOW_MS + 1000;
    expect((await refusal(request(LIST))).message).toMatch(/window/);
    nowMs = CREATE.signedAtMs - WINDOW_MS - 1000;
    await refusal(request(LIST));
  });

  it('refuses a missing or malformed X-Sdk-Date', async () => {
    await refusal(request(LIST, { headers: { 'x-sdk-date': undefined } }));
    await refusal(request(LIST, { headers: { 'x-sdk-date': '2026-11-28T09:30:00Z' } }));
  });

  it('accepts a signed change once; GET may be repeated', async () => {
    await expect(verifier.verify(request(CREATE))).resolves.not.toBeNull();
    expect((await refusal(request(CREATE))).message).toMatch(/already used/);
    await expect(verifier.verify(request(LIST))).resolves.not.toBeNull();
    await expect(verifier.verify(request(LIST))).resolves.not.toBeNull();
  });

  it('does not spend a signature on a request it refused', async () => {
    await refusal(request(CREATE, { headers: { 'x-project-id': 'project-b' } }));
    await expect(verifier.verify(request(CREATE))).resolves.not.toBeNull();
  });

  it('refuses X-Project-Id naming another project than the key’s', async () => {
    keys.add(CREATE.accessKeyId, CREATE.secretKey, 'project-b');
    expect((await refusal(request(CREATE))).message).toMatch(/X-Project-Id/);
  });

  it.each([
    ['host', ['content-type', 'x-project-id', 'x-sdk-date']],
    ['x-sdk-date', ['content-type', 'host', 'x-project-id']],
    ['x-project-id (sent but not signed)', ['content-type', 'host', 'x-sdk-date']],
  ])('refuses a signature that does not cover %s', async (_what, signed) => {
    await refusal(request(LIST, { headers: resign(LIST, {}, signed) }));
  });

  it('does not require X-Project-Id when the request has none', async () => {
    const headers = resign(LIST, { 'x-project-id': undefined }, ['host', 'x-sdk-date']);
    await expect(verifier.verify(request(LIST, { headers }))).resolves.toMatchObject({ projectId: 'project-a' });
  });

  it('refuses a signed header that was not sent', async () => {
    const headers = resign(LIST, { 'x-extra': 'v' }, ['host', 'x-extra', 'x-project-id', 'x-sdk-date']);
    await expect(verifier.verify(request(LIST, { headers }))).resolves.not.toBeNull();
    await refusal(request(LIST, { headers: { ...headers, 'x-extra': undefined } }));
  });

  it('refuses an unsigned payload even when the rest is signed', async () => {
    const headers = resign(LIST, { 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' }, ['host', 'x-project-id', 'x-sdk-content-sha256', 'x-sdk-date']);
    expect((await refusal(request(LIST, { headers }))).message).toMatch(/unsigned/);
  });

  it('refuses a malformed SDK-HMAC-SHA256 header instead of passing it on', async () => {
    await refusal(request(LIST, { headers: { authorization: 'SDK-HMAC-SHA256 Access=A' } }));
  });

  it('answers 503 rather than forget a signature when the replay memory is full', async () => {
    verifier = new SdkHmacVerifier(keys, { windowMs: WINDOW_MS, now: () => nowMs, replayCacheCapacity: 1 });
    await expect(verifier.verify(request(CREATE))).resolves.not.toBeNull();
    const headers = resign(CREATE, { 'x-sdk-date': formatSdkDate(CREATE.signedAtMs + 2000) }, ['host', 'x-project-id', 'x-sdk-date']);
    const outcome = await verifier.verify(request(CREATE, { headers })).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(DomainError);
    expect((outcome as DomainError).errorName).toBe('DependencyUnavailable');
  });
});

describe('ReplayCache', () => {
  it('remembers a key until it expires, and frees expired slots for new keys', () => {
    const cache = new ReplayCache(2, 60_000);
    expect(cache.remember('a', 1000, 0)).toBe('fresh');
    expect(cache.remember('a', 1000, 500)).toBe('replayed');
    expect(cache.remember('b', 5000, 500)).toBe('fresh');
    expect(cache.remember('c', 5000, 500)).toBe('full');
    expect(cache.remember('c', 5000, 1000)).toBe('fresh');
    expect(cache.size).toBe(2);
  });
});
