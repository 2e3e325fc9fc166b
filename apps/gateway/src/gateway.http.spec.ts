/**
 * The HTTP layer as served (GatewayModule + configureGateway on a real
 * socket), with the two outside systems it writes to replaced by fakes: the
 * transfer workflows (TRANSFER_WORKFLOWS) and Kafka (EVENT_PUBLISHER).
 * Tokens are really signed and verified; the read model is a real SQLite
 * file, written here as the worker would. Every response is checked against
 * the published OpenAPI document.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { type INestApplication, Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessKeyStore } from '../../../libs/auth/src/access-key-store';
import { hashAuthKey, idempotentCreateIds, loadOrCreateSecret } from '../../../libs/auth/src/auth-key';
import { LocalTokenIssuer } from '../../../libs/auth/src/local-issuer';
import { canonicalRequest, formatSdkDate, sdkHmacSignature, sha256Hex } from '../../../libs/auth/src/sdk-hmac-signature';
import { type AppConfig, loadConfig } from '../../../libs/config/src/config';
import { API_ACTIONS, type OutgoingRecord, TOPICS } from '../../../libs/contracts/src/events';
import { DomainError } from '../../../libs/domain/src/errors';
import type { TransferRequest } from '../../../libs/domain/src/transfer';
import type { EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { createLogger } from '../../../libs/observability/src/logger';
import { PinoNestLogger } from '../../../libs/observability/src/nest-logger';
import { TransferReadModel } from '../../../libs/read-model/src/transfer-read-model';
import type {
  AcceptOutcome,
  AcceptRequest,
  CreationOutcome,
  DeleteRequest,
  ForceDeleteOutcome,
} from '../../../libs/temporal/src/transfer.definitions';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { checkResponse } from './openapi/openapi.conformance';
import type { CreateOptions, TransferWorkflows } from './temporal/transfer-workflows.port';
import { listenGateway } from './gateway.test-harness';

const OWNER = 'project-a';
const RECIPIENT = 'project-b';
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const doc = buildOpenApiDocument();

/** A stand-in for the workflows: records what it is asked, answers what a test scripts. */
class FakeWorkflows implements TransferWorkflows {
  created: TransferRequest[] = [];
  createOptions: (CreateOptions | undefined)[] = [];
  /** As the workflow keeps it: the first create of an id fixes its creation time. */
  private readonly createdAt = new Map<string, number>();
  accepted: { transferId: string; request: AcceptRequest }[] = [];
  deleted: { transferId: string; request: DeleteRequest }[] = [];
  forceDeleted: { transferId: string; request: DeleteRequest }[] = [];
  failure: Error | null = null;
  acceptOutcome: Omit<AcceptOutcome, 'transferId'> = { volumeId: '', name: null };

  async create(request: TransferRequest, options?: CreateOptions): Promise<CreationOutcome> {
    this.created.push(request);
    this.createOptions.push(options);
    if (this.failure) throw this.failure;
    const createdAtMs = this.createdAt.get(request.transferId) ?? request.createdAtMs;
    this.createdAt.set(request.transferId, createdAtMs);
    return { transferId: request.transferId, createdAtMs };
  }
  async accept(transferId: string, request: AcceptRequest): Promise<AcceptOutcome> {
    this.accepted.push({ transferId, request });
    if (this.failure) throw this.failure;
    return { transferId, ...this.acceptOutcome };
  }
  async delete(transferId: string, request: DeleteRequest): Promise<void> {
    this.deleted.push({ transferId, request });
    if (this.failure) throw this.failure;
  }
  async forceDelete(transferId: string, request: DeleteRequest): Promise<ForceDeleteOutcome> {
    this.forceDeleted.push({ transferId, request });
    if (this.failure) throw this.failure;
    return { transferId, volumeId: FORCE_DELETED_VOLUME, ownerProjectId: RECIPIENT };
  }
}

const FORCE_DELETED_VOLUME = '99999999-0000-4000-8000-000000000001';

class FakePublisher implements EventPublisher {
  records: OutgoingRecord[] = [];
  failuresLeft = 0;
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('broker away');
    }
    this.records.push(...records);
  }
}

let dir: string;
let config: AppConfig;
let app: INestApplication;
let baseUrl: string;
let issuer: LocalTokenIssuer;
let readModel: TransferReadModel;
const workflows = new FakeWorkflows();
const publisher = new FakePublisher();
let ownerToken: string;
let recipientToken: string;
let readerToken: string;
let adminToken: string;
const ADMIN_PROJECT = 'project-ops';

let seq = 0;
function uuid(prefix = '00000000'): string {
  seq += 1;
  return `${prefix}-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function call(
  method: string,
  urlPath: string,
  options: { token?: string | null; body?: unknown; rawBody?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ownerToken : options.token;
  if (token !== null) headers['X-Auth-Token'] = token;
  // A Uint8Array body goes out without any Content-Type; fetch labels a string body text/plain.
  let body: string | Uint8Array | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${urlPath}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

function expectConforms(operationId: string, reply: Reply): void {
  expect(checkResponse(doc, operationId, reply)).toEqual([]);
}

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) as unknown } });
  expect(reply.headers.get('x-request-id')).toMatch(REQUEST_ID);
}

async function pendingRow(projectId: string, overrides: Partial<Parameters<TransferReadModel['recordPending']>[0]> = {}) {
  const row = {
    id: uuid(),
    name: 'seeded',
    volumeId: uuid('11111111'),
    projectId,
    createdAtMs: Date.UTC(2026, 10, 28, 9, 29, 46, 743),
    expiresAtMs: Date.now() + 3_600_000,
    ...overrides,
  };
  await readModel.recordPending(row);
  return row;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-http-'));
  config = loadConfig({ DATA_DIR: dir, GATEWAY_UPDATE_TIMEOUT_SECONDS: '2', LOG_LEVEL: 'silent' });
  issuer = LocalTokenIssuer.open(config.auth);
  ownerToken = await issuer.issueToken({ projectId: OWNER, userId: 'alice', roles: ['member'], ttlSeconds: 600 });
  recipientToken = await issuer.issueToken({ projectId: RECIPIENT, userId: 'bob', roles: ['member'], ttlSeconds: 600 });
  readerToken = await issuer.issueToken({ projectId: OWNER, userId: 'rita', roles: ['reader'], ttlSeconds: 600 });
  adminToken = await issuer.issueToken({ projectId: ADMIN_PROJECT, userId: 'root', roles: ['admin'], ttlSeconds: 600 });

  ({ app, url: baseUrl } = await listenGateway(config, workflows, publisher));
  readModel = await TransferReadModel.open(config.databases.readModel);
});

afterAll(async () => {
  await readModel?.close();
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  workflows.created = [];
  workflows.createOptions = [];
  workflows.accepted = [];
  workflows.deleted = [];
  workflows.forceDeleted = [];
  workflows.failure = null;
});

afterEach(() => {
  workflows.failure = null;
});

const collection = (v = 'v2', project = OWNER) => `/${v}/${project}/os-volume-transfer`;

describe('create', () => {
  it('answers 202 with exactly the create fields, the key shown once, and starts the workflow with its hash only', async () => {
    const volumeId = uuid('22222222');
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: volumeId, name: '  t1  ' } } });
    expect(reply.status).toBe(202);
    expectConforms('createTransfer', reply);
    const { transfer } = reply.body as { transfer: Record<string, unknown> };
    expect(Object.keys(transfer).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    expect(transfer.name).toBe('t1');
    expect(transfer.volume_id).toBe(volumeId);
    expect(transfer.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect(transfer.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    const id = transfer.id as string;
    expect(transfer.links).toEqual([
      { href: `${baseUrl}/v2/${OWNER}/os-volume-transfer/${id}`, rel: 'self' },
      { href: `${baseUrl}/${OWNER}/os-volume-transfer/${id}`, rel: 'bookmark' },
    ]);

    expect(workflows.created).toHaveLength(1);
    const request = workflows.created[0];
    const secret = loadOrCreateSecret(config.auth.authKeySecretFile);
    expect(request).toEqual({
      transferId: id,
      volumeId,
      name: 't1',
      owner: { projectId: OWNER, userId: 'alice', requestId: reply.headers.get('x-request-id') },
      createdAtMs: expect.any(Number) as unknown,
      authKeyHash: hashAuthKey(secret, id, transfer.auth_key as string),
      policy: config.transferPolicy,
    });
    expect(JSON.stringify(request)).not.toContain(transfer.auth_key as string);
  });

  it('links with the request version under v3 and keeps a missing or null name null', async () => {
    for (const body of [{ transfer: { volume_id: uuid() } }, { transfer: { volume_id: uuid(), name: null } }]) {
      const reply = await call('POST', collection('v3'), { body });
      expect(reply.status).toBe(202);
      const { transfer } = reply.body as { transfer: { id: string; name: unknown; links: { href: string }[] } };
      expect(transfer.name).toBeNull();
      expect(transfer.links[0].href).toBe(`${baseUrl}/v3/${OWNER}/os-volume-transfer/${transfer.id}`);
    }
  });

  it('lower-cases the volume id', async () => {
    const volumeId = uuid('abcdef00').toUpperCase();
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: volumeId } } });
    expect(reply.status).toBe(202);
    expect(workflows.created[0].volumeId).toBe(volumeId.toLowerCase());
  });

  it.each([
    ['no transfer', {}],
    ['transfer not an object', { transfer: 'x' }],
    ['a body that is an array', []],
    ['no volume_id', { transfer: { name: 'x' } }],
    ['a volume_id that is not a UUID', { transfer: { volume_id: 'vol-1' } }],
    ['a volume_id that is not a string', { transfer: { volume_id: 42 } }],
    ['a blank name', { transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e', name: '   ' } }],
    ['a name of 256 characters', { transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e', name: 'n'.repeat(256) } }],
    ['a name that is not a string', { transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e', name: 7 } }],
    ['an unknown key in transfer', { transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e', no_snapshots: true } }],
    ['an unknown top-level key', { transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e' }, extra: 1 }],
  ])('refuses %s with 400 EVS.5400 and never reaches the workflow', async (_what, body) => {
    const reply = await call('POST', collection(), { body });
    expectError(reply, 400, 'EVS.5400');
    expectConforms('createTransfer', reply);
    expect(workflows.created).toHaveLength(0);
  });

  it('accepts a 255-character name', async () => {
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: uuid(), name: 'é'.repeat(255) } } });
    expect(reply.status).toBe(202);
  });

  it.each([
    ['malformed JSON', { rawBody: '{"transfer": ', headers: { 'Content-Type': 'application/json' } }],
    ['an empty body', { rawBody: '', headers: { 'Content-Type': 'application/json' } }],
    ['a form body', { rawBody: 'transfer=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }],
    ['a text body', { rawBody: '{}', headers: { 'Content-Type': 'text/plain' } }],
    ['a latin-1 body', { rawBody: '{}', headers: { 'Content-Type': 'application/json; charset=latin1' } }],
    ['a body over 64 KiB', { rawBody: JSON.stringify({ transfer: { volume_id: 'x', name: 'a'.repeat(70_000) } }), headers: { 'Content-Type': 'application/json' } }],
  ])('refuses %s with 400 EVS.5400', async (_what, options) => {
    const reply = await call('POST', collection(), options);
    expectError(reply, 400, 'EVS.5400');
    expect(workflows.created).toHaveLength(0);
  });

  it('reads a body sent without Content-Type as JSON, as Cinder does', async () => {
    const rawBody = new TextEncoder().encode(JSON.stringify({ transfer: { volume_id: uuid() } }));
    const reply = await call('POST', collection(), { rawBody });
    expect(reply.status).toBe(202);
  });

  it.each([
    ['DiskEncrypted', 400, 'EVS.5453'],
    ['DiskNotFound', 404, 'EVS.5404'],
    ['DiskAlreadyInTransfer', 409, 'EVS.5409'],
    ['DependencyUnavailable', 503, 'EVS.5503'],
  ] as const)('answers the workflow refusal %s as %i %s', async (name, status, code) => {
    workflows.failure = new DomainError(name);
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: uuid() } } });
    expectError(reply, status, code);
    expectConforms('createTransfer', reply);
  });

  it('answers an unexpected failure with 500 and no internals', async () => {
    workflows.failure = new Error('SQLITE_CORRUPT at /secret/path');
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: uuid() } } });
    expectError(reply, 500, 'EVS.5500');
    expect(reply.text).not.toContain('SQLITE');
    expect(reply.text).not.toContain('/secret');
  });
});

describe('create with an Idempotency-Key', () => {
  const create = (volumeId: string, key: string, options: { name?: string | null; token?: string } = {}) =>
    call('POST', collection('v2', options.token === recipientToken ? RECIPIENT : OWNER), {
      token: options.token,
      body: { transfer: { volume_id: volumeId, name: options.name === undefined ? 't1' : options.name } },
      headers: { 'Idempotency-Key': key },
    });

  it('answers a retry exactly as the first try: same id, auth key, created_at and links', async () => {
    const volumeId = uuid('44444444');
    const first = await create(volumeId, 'order-4711');
    const retry = await create(volumeId, 'order-4711');
    expect(first.status).toBe(202);
    expectConforms('createTransfer', first);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
  });

  it('derives id and key from the project and the key, and tells the workflow the id is not a fresh one', async () => {
    const reply = await create(uuid(), 'order-4712');
    const { transfer } = reply.body as { transfer: { id: string; auth_key: string } };
    const secret = loadOrCreateSecret(config.auth.authKeySecretFile);
    expect(transfer).toMatchObject(
      (({ transferId, authKey }) => ({ id: transferId, auth_key: authKey }))(idempotentCreateIds(secret, OWNER, 'order-4712')),
    );
    expect(workflows.created[0].authKeyHash).toBe(hashAuthKey(secret, transfer.id, transfer.auth_key));
    expect(workflows.createOptions).toEqual([{ idempotent: true }]);
  });

  it('gives another project using the same key a transfer of its own', async () => {
    const mine = await create(uuid(), 'shared-key');
    const theirs = await create(uuid(), 'shared-key', { token: recipientToken });
    const [a, b] = [mine, theirs].map((r) => (r.body as { transfer: { id: string; auth_key: string } }).transfer);
    expect(a.id).not.toBe(b.id);
    expect(a.auth_key).not.toBe(b.auth_key);
  });

  it('creates as before without the header: a random id and key, and a fresh workflow', async () => {
    const volumeId = uuid();
    const replies = [
      await call('POST', collection(), { body: { transfer: { volume_id: volumeId } } }),
      await call('POST', collection(), { body: { transfer: { volume_id: volumeId } } }),
    ];
    const ids = replies.map((r) => (r.body as { transfer: { id: string } }).transfer.id);
    expect(new Set(ids).size).toBe(2);
    expect(workflows.createOptions).toEqual([{ idempotent: false }, { idempotent: false }]);
  });

  it.each([
    ['IdempotencyKeyReused', 422, 'EVS.5422'],
    ['IdempotentTransferEnded', 409, 'EVS.5414'],
  ] as const)('answers the workflow refusal %s as %i %s', async (name, status, code) => {
    workflows.failure = new DomainError(name);
    const reply = await create(uuid(), `refused-${name}`);
    expectError(reply, status, code);
    expectConforms('createTransfer', reply);
  });

  it('answers a retry of a transfer that has ended from the read model, without starting anything', async () => {
    const volumeId = uuid();
    const first = await create(volumeId, 'order-ended');
    const { id } = (first.body as { transfer: { id: string } }).transfer;
    await readModel.recordPending({ id, name: 't1', volumeId, projectId: OWNER, createdAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 });
    await readModel.recordEnded(id, 'accepted', Date.now(), RECIPIENT);
    workflows.created = [];

    const ended = await create(volumeId, 'order-ended');
    expectError(ended, 409, 'EVS.5414');
    expectConforms('createTransfer', ended);
    expect((ended.body as { error: { message: string } }).error.message).toContain('(accepted)');
    const otherDisk = await create(uuid(), 'order-ended');
    expectError(otherDisk, 422, 'EVS.5422');
    expect(workflows.created).toHaveLength(0);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'schlüssel'],
  ])('refuses a key that is %s with 400 EVS.5400 and never reaches the workflow', async (_what, key) => {
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: uuid() } }, headers: { 'Idempotency-Key': key } });
    expectError(reply, 400, 'EVS.5400');
    expectConforms('createTransfer', reply);
    expect(workflows.created).toHaveLength(0);
  });

  it('refuses the header sent twice with 400 EVS.5400', async () => {
    const url = new URL(`${baseUrl}${collection()}`);
    const body = JSON.stringify({ transfer: { volume_id: uuid() } });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: [
          'Content-Type', 'application/json',
          'Content-Length', String(Buffer.byteLength(body)),
          'X-Auth-Token', ownerToken,
          'Idempotency-Key', 'first',
          'Idempotency-Key', 'second',
        ],
      });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end(body);
    });
    expect(status).toBe(400);
    expect(workflows.created).toHaveLength(0);
  });
});

describe('idle keep-alive connections', () => {
  it('stay open well past Node\'s 5 s default, so a pooled connection is not closed under a client about to reuse it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.get(`${baseUrl}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);
});

describe('authentication and project scope', () => {
  it('answers 401 without a token, before looking at the body', async () => {
    const reply = await call('POST', collection(), { token: null, rawBody: 'not json' });
    expectError(reply, 401, 'EVS.5401');
    expectConforms('createTransfer', reply);
  });

  it.each([
    ['garbage', 'abc.def.ghi'],
    ['another issuer’s key', 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'],
  ])('answers 401 to a bad token (%s)', async (_what, token) => {
    const reply = await call('GET', collection(), { token });
    expectError(reply, 401, 'EVS.5401');
    expectConforms('listTransfers', reply);
  });

  it('answers 401 to an expired token', async () => {
    const expired = await issuer.issueToken(
      { projectId: OWNER, userId: 'alice', roles: [], ttlSeconds: 60 },
      Date.now() - 10 * 60_000,
    );
    expectError(await call('GET', collection(), { token: expired }), 401, 'EVS.5401');
  });

  it('answers 403 when the path project is not the token’s', async () => {
    const reply = await call('GET', collection('v2', RECIPIENT));
    expectError(reply, 403, 'EVS.5403');
    expectConforms('listTransfers', reply);
    expectError(await call('POST', collection('v2', RECIPIENT), { body: { transfer: { volume_id: uuid() } } }), 403, 'EVS.5403');
  });
});

describe('access-key signing (SDK-HMAC-SHA256)', () => {
  let keys: AccessKeyStore;
  beforeAll(async () => {
    // A second handle on the gateway's store, as the access-keys command would open it.
    keys = await AccessKeyStore.open(config.databases.accessKeys, {
      masterKeyFile: config.auth.accessKeyMasterKeyFile,
      masterKeyringDir: config.auth.accessKeyMasterKeyringDir,
    });
  });
  afterAll(() => keys.close());

  /** Headers of a request signed the way the Huawei SDK signs (the signer itself is checked against the SDK in libs/auth). */
  function signed(method: string, urlPath: string, key: { accessKeyId: string; secretKey: string }, body = ''): Record<string, string> {
    const sdkDate = formatSdkDate(Date.now());
    const headers: Record<string, string> = {
      host: new URL(baseUrl).host,
      'content-type': 'application/json;charset=UTF-8',
      'x-sdk-date': sdkDate,
    };
    const signedHeaders = Object.keys(headers).sort();
    const canonical = canonicalRequest({ method, path: urlPath, query: '', headers, signedHeaders, payloadHash: sha256Hex(body) });
    const signature = sdkHmacSignature(key.secretKey, sdkDate, canonical!);
    return { ...headers, authorization: `SDK-HMAC-SHA256 Access=${key.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}` };
  }

  async function newKey(projectId = OWNER) {
    const { record, secretKey } = await keys.create({ projectId, userId: 'carol', roles: ['member'] });
    return { accessKeyId: record.accessKeyId, secretKey };
  }

  it('creates a transfer as the key’s user: the body is both signed and parsed', async () => {
    const key = await newKey();
    const body = JSON.stringify({ transfer: { volume_id: uuid('33333333'), name: 'signed' } });
    const reply = await call('POST', collection(), { token: null, rawBody: body, headers: signed('POST', collection(), key, body) });
    expect(reply.status).toBe(202);
    expectConforms('createTransfer', reply);
    expect(workflows.created[0]?.owner).toMatchObject({ projectId: OWNER, userId: 'carol' });
  });

  it('answers 401 to a body changed after signing, to a revoked key, and to another project’s path 403', async () => {
    const key = await newKey();
    const body = JSON.stringify({ transfer: { volume_id: uuid('33333333') } });
    const tampered = body.replace('}}', ', "name": "x"}}');
    expectError(await call('POST', collection(), { token: null, rawBody: tampered, headers: signed('POST', collection(), key, body) }), 401, 'EVS.5401');
    expectError(await call('GET', collection('v2', RECIPIENT), { token: null, headers: signed('GET', collection('v2', RECIPIENT), key) }), 403, 'EVS.5403');
    await keys.revoke(key.accessKeyId);
    expectError(await call('GET', collection(), { token: null, headers: signed('GET', collection(), key) }), 401, 'EVS.5401');
    expect(workflows.created).toEqual([]);
  });
});

describe('accept', () => {
  const acceptPath = (id: string, project = RECIPIENT) => `/v2/${project}/os-volume-transfer/${id}/accept`;

  it('answers 202 with id, name, volume_id and links, sending the keyed hash of the key', async () => {
    const id = uuid();
    const volumeId = uuid('33333333');
    workflows.acceptOutcome = { volumeId, name: 't1' };
    const reply = await call('POST', acceptPath(id), { token: recipientToken, body: { accept: { auth_key: '9266c59563c84664' } } });
    expect(reply.status).toBe(202);
    expectConforms('acceptTransfer', reply);
    expect(reply.body).toEqual({
      transfer: {
        id,
        name: 't1',
        volume_id: volumeId,
        links: [
          { href: `${baseUrl}/v2/${RECIPIENT}/os-volume-transfer/${id}`, rel: 'self' },
          { href: `${baseUrl}/${RECIPIENT}/os-volume-transfer/${id}`, rel: 'bookmark' },
        ],
      },
    });
    const secret = loadOrCreateSecret(config.auth.authKeySecretFile);
    expect(workflows.accepted).toEqual([
      {
        transferId: id,
        request: {
          actor: { projectId: RECIPIENT, userId: 'bob', requestId: reply.headers.get('x-request-id') },
          authKeyHash: hashAuthKey(secret, id, '9266c59563c84664'),
        },
      },
    ]);
  });

  it('hashes with the lower-cased transfer id, whatever case the path uses', async () => {
    const id = uuid('abcdef01');
    workflows.acceptOutcome = { volumeId: uuid(), name: null };
    await call('POST', acceptPath(id.toUpperCase()), { token: recipientToken, body: { accept: { auth_key: 'k' } } });
    const secret = loadOrCreateSecret(config.auth.authKeySecretFile);
    expect(workflows.accepted[0]).toMatchObject({ transferId: id, request: { authKeyHash: hashAuthKey(secret, id, 'k') } });
  });

  it.each([
    ['InvalidAuthKey', 400, 'EVS.5440'],
    ['AcceptOwnTransfer', 400, 'EVS.5441'],
    ['TransferNotFound', 404, 'EVS.5404'],
    ['QuotaExceeded', 413, 'EVS.5413'],
    ['TransferBusy', 409, 'EVS.5410'],
  ] as const)('answers %s as %i %s, without echoing the key', async (name, status, code) => {
    workflows.failure = new DomainError(name);
    const reply = await call('POST', acceptPath(uuid()), { token: recipientToken, body: { accept: { auth_key: 'abcdef0123456789' } } });
    expectError(reply, status, code);
    expectConforms('acceptTransfer', reply);
    expect(reply.text).not.toContain('abcdef0123456789');
  });

  it('answers a lock-out with 429 and Retry-After', async () => {
    workflows.failure = new DomainError('TooManyFailedAttempts', { retryAfterSeconds: 119.2 });
    const reply = await call('POST', acceptPath(uuid()), { token: recipientToken, body: { accept: { auth_key: 'k' } } });
    expectError(reply, 429, 'EVS.5429');
    expect(reply.headers.get('retry-after')).toBe('120');
    expectConforms('acceptTransfer', reply);
  });

  it.each([
    ['no accept', {}],
    ['an auth_key that is not a string', { accept: { auth_key: 1234 } }],
    ['an empty auth_key', { accept: { auth_key: '' } }],
    ['an auth_key of 256 characters', { accept: { auth_key: 'k'.repeat(256) } }],
    ['an unknown key', { accept: { auth_key: 'k', extra: true } }],
  ])('refuses %s with 400 EVS.5400 without counting it', async (_what, body) => {
    const reply = await call('POST', acceptPath(uuid()), { token: recipientToken, body });
    expectError(reply, 400, 'EVS.5400');
    expect(workflows.accepted).toHaveLength(0);
  });

  it('answers 404 to a transfer id that is not a UUID, without asking the workflow', async () => {
    const reply = await call('POST', acceptPath('not-a-uuid'), { token: recipientToken, body: { accept: { auth_key: 'k' } } });
    expectError(reply, 404, 'EVS.5404');
    expectConforms('acceptTransfer', reply);
    expect(workflows.accepted).toHaveLength(0);
  });
});

describe('show, list and delete (read model)', () => {
  it('shows a pending transfer of the project with exactly the show fields', async () => {
    const row = await pendingRow(OWNER);
    const reply = await call('GET', `${collection('v3')}/${row.id}`);
    expect(reply.status).toBe(200);
    expectConforms('showTransfer', reply);
    expect(reply.body).toEqual({
      transfer: {
        id: row.id,
        name: 'seeded',
        volume_id: row.volumeId,
        created_at: '2026-11-28T09:29:46.743000',
        links: [
          { href: `${baseUrl}/v3/${OWNER}/os-volume-transfer/${row.id}`, rel: 'self' },
          { href: `${baseUrl}/${OWNER}/os-volume-transfer/${row.id}`, rel: 'bookmark' },
        ],
      },
    });
  });

  it('answers 404 for another project’s transfer, an ended one, an unknown one and a malformed id', async () => {
    const foreign = await pendingRow(RECIPIENT);
    const ended = await pendingRow(OWNER);
    await readModel.recordEnded(ended.id, 'accepted', Date.now(), RECIPIENT);
    for (const id of [foreign.id, ended.id, uuid(), 'nope']) {
      const reply = await call('GET', `${collection()}/${id}`);
      expectError(reply, 404, 'EVS.5404');
      expectConforms('showTransfer', reply);
    }
  });

  it('lists only the project’s pending transfers, oldest first, with limit and offset', async () => {
    const project = `list-${seq}`;
    const token = await issuer.issueToken({ projectId: project, userId: 'carol', roles: ['reader'], ttlSeconds: 600 });
    const t0 = Date.UTC(2026, 0, 1);
    const b = await pendingRow(project, { createdAtMs: t0 + 2, name: null });
    const a = await pendingRow(project, { createdAtMs: t0 + 1 });
    const c = await pendingRow(project, { createdAtMs: t0 + 3 });
    const gone = await pendingRow(project, { createdAtMs: t0 });
    await readModel.recordEnded(gone.id, 'deleted', Date.now(), null);
    await pendingRow(OWNER);

    const all = await call('GET', collection('v2', project), { token });
    expect(all.status).toBe(200);
    expectConforms('listTransfers', all);
    const summaries = (all.body as { transfers: Record<string, unknown>[] }).transfers;
    expect(summaries.map((t) => t.id)).toEqual([a.id, b.id, c.id]);
    expect(Object.keys(summaries[0]).sort()).toEqual(['id', 'links', 'name', 'volume_id']);
    expect(summaries[1].name).toBeNull();

    const page = await call('GET', `${collection('v2', project)}/detail?limit=1&offset=1&sort=name&all_tenants=0`, { token });
    expect(page.status).toBe(200);
    expectConforms('listTransfersDetail', page);
    const details = (page.body as { transfers: Record<string, unknown>[] }).transfers;
    expect(details.map((t) => t.id)).toEqual([b.id]);
    expect(Object.keys(details[0]).sort()).toEqual(['created_at', 'id', 'links', 'name', 'volume_id']);

    const beyond = await call('GET', `${collection('v2', project)}?offset=10`, { token });
    expect(beyond.body).toEqual({ transfers: [] });
  });

  it.each(['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=1.5', 'limit=', 'limit=1&limit=2', 'offset=-1', 'offset=x'])(
    'refuses ?%s with 400 EVS.5400',
    async (query) => {
      for (const [suffix, op] of [['', 'listTransfers'], ['/detail', 'listTransfersDetail']] as const) {
        const reply = await call('GET', `${collection()}${suffix}?${query}`);
        expectError(reply, 400, 'EVS.5400');
        expectConforms(op, reply);
      }
    },
  );

  it('accepts limit 1000 and offset 0 explicitly', async () => {
    expect((await call('GET', `${collection()}?limit=1000&offset=0`)).status).toBe(200);
  });

  it('deletes a pending transfer of the project: 202, empty body, the workflow asked', async () => {
    const row = await pendingRow(OWNER);
    const reply = await call('DELETE', `${collection()}/${row.id}`);
    expect(reply.status).toBe(202);
    expect(reply.text).toBe('');
    expectConforms('deleteTransfer', reply);
    expect(workflows.deleted).toEqual([
      { transferId: row.id, request: { actor: { projectId: OWNER, userId: 'alice', requestId: reply.headers.get('x-request-id') } } },
    ]);
  });

  it('answers 404 to deleting another project’s transfer without asking the workflow', async () => {
    const foreign = await pendingRow(RECIPIENT);
    const reply = await call('DELETE', `${collection()}/${foreign.id}`);
    expectError(reply, 404, 'EVS.5404');
    expectConforms('deleteTransfer', reply);
    expect(workflows.deleted).toHaveLength(0);
  });

  it('passes the workflow’s refusal through (accept won the race: 409)', async () => {
    const row = await pendingRow(OWNER);
    workflows.failure = new DomainError('TransferBusy');
    const reply = await call('DELETE', `${collection()}/${row.id}`);
    expectError(reply, 409, 'EVS.5410');
    expectConforms('deleteTransfer', reply);
  });
});

describe('policy (roles)', () => {
  it('lets a reader list and show but refuses it create, accept and delete with 403 EVS.5403, before any workflow call', async () => {
    const row = await pendingRow(OWNER);
    expect((await call('GET', collection(), { token: readerToken })).status).toBe(200);
    expect((await call('GET', `${collection()}/detail`, { token: readerToken })).status).toBe(200);
    expect((await call('GET', `${collection()}/${row.id}`, { token: readerToken })).status).toBe(200);

    const create = await call('POST', collection(), { token: readerToken, body: { transfer: { volume_id: uuid() } } });
    expectError(create, 403, 'EVS.5403');
    expectConforms('createTransfer', create);
    expect((create.body as { error: { message: string } }).error.message).toMatch(/evs:transfers:create.*member, admin/);
    const accept = await call('POST', `${collection()}/${uuid()}/accept`, { token: readerToken, body: { accept: { auth_key: 'k' } } });
    expectError(accept, 403, 'EVS.5403');
    expectConforms('acceptTransfer', accept);
    const del = await call('DELETE', `${collection()}/${row.id}`, { token: readerToken });
    expectError(del, 403, 'EVS.5403');
    expectConforms('deleteTransfer', del);
    expect([workflows.created, workflows.accepted, workflows.deleted]).toEqual([[], [], []]);
  });

  it('refuses a token without roles everything, reads included', async () => {
    const token = await issuer.issueToken({ projectId: OWNER, userId: 'nobody', roles: [], ttlSeconds: 600 });
    const list = await call('GET', collection(), { token });
    expectError(list, 403, 'EVS.5403');
    expectConforms('listTransfers', list);
    expectError(await call('GET', `${collection()}/${uuid()}`, { token }), 403, 'EVS.5403');
  });

  it('checks credentials and the path’s project before the policy: 401, then 403 for the path, then 403 for the roles', async () => {
    expectError(await call('POST', collection(), { token: null, body: {} }), 401, 'EVS.5401');
    const otherPath = await call('POST', collection('v2', RECIPIENT), { token: readerToken, body: {} });
    expectError(otherPath, 403, 'EVS.5403');
    expect((otherPath.body as { error: { message: string } }).error.message).toMatch(/project in the path/);
  });

  it('does not read the body of a call the policy refuses', async () => {
    const reply = await call('POST', collection(), { token: readerToken, rawBody: 'not json at all' });
    expectError(reply, 403, 'EVS.5403');
  });
});

describe('administrators: every project’s transfers (all_tenants)', () => {
  const admins = (v = 'v2') => `/${v}/${ADMIN_PROJECT}/os-volume-transfer`;
  /** Each test's rows come first in the all-projects list, before every row of earlier tests. */
  let earliest = Date.UTC(2020, 0, 1);

  it('lists every project’s pending transfers, v2 and v3, list and detail, with links naming each transfer’s project', async () => {
    const mine = await pendingRow(OWNER, { createdAtMs: --earliest });
    const theirs = await pendingRow(RECIPIENT, { createdAtMs: --earliest });
    for (const [suffix, op] of [['', 'listTransfers'], ['/detail', 'listTransfersDetail']] as const) {
      for (const v of ['v2', 'v3']) {
        const reply = await call('GET', `${admins(v)}${suffix}?all_tenants=1&limit=2`, { token: adminToken });
        expect(reply.status).toBe(200);
        expectConforms(op, reply);
        const transfers = (reply.body as { transfers: { id: string; links: { href: string; rel: string }[] }[] }).transfers;
        expect(transfers.map((t) => t.id)).toEqual([theirs.id, mine.id]);
        expect(transfers[0].links[0]).toEqual({ href: `${baseUrl}/${v}/${RECIPIENT}/os-volume-transfer/${theirs.id}`, rel: 'self' });
        expect(transfers[1].links[0]).toEqual({ href: `${baseUrl}/${v}/${OWNER}/os-volume-transfer/${mine.id}`, rel: 'self' });
      }
    }
  });

  it.each(['all_tenants', 'all_tenants=true', 'all_tenants=True', 'all_tenants=yes'])('takes ?%s as a yes', async (query) => {
    const row = await pendingRow(RECIPIENT, { createdAtMs: --earliest });
    const reply = await call('GET', `${admins()}?${query}&limit=1`, { token: adminToken });
    expect((reply.body as { transfers: { id: string }[] }).transfers.map((t) => t.id)).toEqual([row.id]);
  });

  it('lists only the administrator’s own project without all_tenants, or with a no', async () => {
    await pendingRow(RECIPIENT);
    for (const query of ['', '?all_tenants=0', '?all_tenants=false']) {
      const reply = await call('GET', `${admins()}${query}`, { token: adminToken });
      expect(reply.body).toEqual({ transfers: [] });
    }
  });

  it('answers a member or reader asking for all_tenants with its own project only, as Cinder does', async () => {
    for (const token of [ownerToken, readerToken]) {
      for (const suffix of ['', '/detail']) {
        const own = await call('GET', `${collection()}${suffix}`, { token });
        const reply = await call('GET', `${collection()}${suffix}?all_tenants=1`, { token });
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual(own.body);
      }
    }
  });

  it('refuses a value of all_tenants that is no boolean to an administrator (400); a tenant’s is ignored', async () => {
    const reply = await call('GET', `${admins()}?all_tenants=maybe`, { token: adminToken });
    expectError(reply, 400, 'EVS.5400');
    expectConforms('listTransfers', reply);
    expectError(await call('GET', `${admins()}?all_tenants=1&all_tenants=0`, { token: adminToken }), 400, 'EVS.5400');
    expect((await call('GET', `${collection()}?all_tenants=maybe`)).status).toBe(200);
  });
});

describe('administrators: force-delete (os-force_delete)', () => {
  const actionPath = (id: string, project = ADMIN_PROJECT, v = 'v3') => `/${v}/${project}/os-volume-transfer/${id}/action`;

  it.each([{ 'os-force_delete': {} }, { 'os-force_delete': null }])(
    'asks the workflow to force-delete any project’s transfer, as the administrator: 202, empty body (%j)',
    async (body) => {
      const foreign = await pendingRow(RECIPIENT);
      const reply = await call('POST', actionPath(foreign.id.toUpperCase()), { token: adminToken, body });
      expect(reply.status).toBe(202);
      expect(reply.text).toBe('');
      expectConforms('transferAction', reply);
      expect(workflows.forceDeleted).toEqual([
        { transferId: foreign.id, request: { actor: { projectId: ADMIN_PROJECT, userId: 'root', requestId: reply.headers.get('x-request-id') } } },
      ]);
    },
  );

  it('refuses it to a member, even on its own transfer, with 403 and no workflow call', async () => {
    const row = await pendingRow(OWNER);
    const reply = await call('POST', actionPath(row.id, OWNER), { body: { 'os-force_delete': {} } });
    expectError(reply, 403, 'EVS.5403');
    expectConforms('transferAction', reply);
    expect(workflows.forceDeleted).toEqual([]);
  });

  it.each([
    ['an unknown action', { 'os-reset_status': {} }],
    ['an empty body', {}],
    ['a force-delete with arguments', { 'os-force_delete': { force: true } }],
    ['two actions', { 'os-force_delete': {}, 'os-reset_status': {} }],
  ])('refuses %s with 400', async (_what, body) => {
    const reply = await call('POST', actionPath(uuid()), { token: adminToken, body });
    expectError(reply, 400, 'EVS.5400');
    expectConforms('transferAction', reply);
    expect(workflows.forceDeleted).toEqual([]);
  });

  it.each([
    ['TransferNotFound', 404, 'EVS.5404'],
    ['TransferBusy', 409, 'EVS.5410'],
    ['TransferAlreadyAccepted', 409, 'EVS.5412'],
    ['DependencyUnavailable', 503, 'EVS.5503'],
  ] as const)('passes the workflow’s %s through as %i %s', async (name, status, code) => {
    workflows.failure = new DomainError(name);
    const reply = await call('POST', actionPath(uuid()), { token: adminToken, body: { 'os-force_delete': {} } });
    expectError(reply, status, code);
    expectConforms('transferAction', reply);
  });

  it('keeps a plain DELETE the tenant’s own: an administrator’s DELETE of another project’s transfer is 404', async () => {
    const foreign = await pendingRow(RECIPIENT);
    expectError(await call('DELETE', `/v3/${ADMIN_PROJECT}/os-volume-transfer/${foreign.id}`, { token: adminToken }), 404, 'EVS.5404');
    expect(workflows.deleted).toEqual([]);
  });
});

describe('microversions 3.55 to 3.59 (volume-transfers)', () => {
  const v3 = (minor: number | 'latest') => ({ 'OpenStack-API-Version': `volume ${minor === 'latest' ? 'latest' : `3.${minor}`}` });
  const routes = (project: string) => [`/v3/${project}/os-volume-transfer`, `/v3/${project}/volume-transfers`];

  it('serves volume-transfers from 3.55 only; below it the route is not there (404)', async () => {
    const project = `p-${uuid().slice(-6)}`;
    const token = await issuer.issueToken({ projectId: project, userId: 'u', roles: ['member'], ttlSeconds: 600 });
    expectError(await call('GET', `/v3/${project}/volume-transfers`, { token }), 404, 'EVS.5404');
    expectError(await call('GET', `/v3/${project}/volume-transfers`, { token, headers: v3(54) }), 404, 'EVS.5404');
    const ok = await call('GET', `/v3/${project}/volume-transfers`, { token, headers: v3(55) });
    expect([ok.status, ok.body]).toEqual([200, { transfers: [] }]);
  });

  it('takes no_snapshots in Cinder’s boolean spellings on volume-transfers, and reports it from 3.55', async () => {
    const reply = await call('POST', `/v3/${OWNER}/volume-transfers`, {
      headers: v3(55),
      body: { transfer: { volume_id: uuid('22222222'), name: 't', no_snapshots: 'Yes' } },
    });
    expect(reply.status).toBe(202);
    const { transfer } = reply.body as { transfer: Record<string, unknown> };
    expect(Object.keys(transfer).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'no_snapshots', 'volume_id']);
    expect(transfer.no_snapshots).toBe(true);
  });

  it.each([['maybe'], [2], [null]])('refuses no_snapshots %j with a 400, starting nothing', async (value) => {
    const reply = await call('POST', `/v3/${OWNER}/volume-transfers`, {
      headers: v3(59),
      body: { transfer: { volume_id: uuid('22222222'), no_snapshots: value } },
    });
    expectError(reply, 400, 'EVS.5400');
    expect((reply.body as { error: { message: string } }).error.message).toContain('no_snapshots');
    expect(workflows.created).toEqual([]);
  });

  it('adds the 3.57 history fields to create, show and list detail on both routes, never to the summary list', async () => {
    const row = await pendingRow(OWNER);
    for (const route of routes(OWNER)) {
      const show = await call('GET', `${route}/${row.id}`, { headers: v3(57) });
      expect(show.body).toEqual({
        transfer: {
          id: row.id,
          name: row.name,
          volume_id: row.volumeId,
          created_at: '2026-11-28T09:29:46.743000',
          links: expect.any(Array),
          no_snapshots: true,
          source_project_id: OWNER,
          destination_project_id: null,
          accepted: false,
        },
      });
      const detail = (await call('GET', `${route}/detail`, { headers: v3(57) })).body as { transfers: Record<string, unknown>[] };
      expect(detail.transfers.find((t) => t.id === row.id)).toMatchObject({ source_project_id: OWNER, accepted: false });
      const summary = (await call('GET', route, { headers: v3(57) })).body as { transfers: Record<string, unknown>[] };
      expect(Object.keys(summary.transfers.find((t) => t.id === row.id)!)).toEqual(['id', 'name', 'volume_id', 'links']);
    }
    const created = await call('POST', `/v3/${OWNER}/os-volume-transfer`, { headers: v3(57), body: { transfer: { volume_id: uuid('22222222') } } });
    expect(created.body).toMatchObject({ transfer: { no_snapshots: true, source_project_id: OWNER, destination_project_id: null, accepted: false } });
  });

  it('sorts and pages from 3.59 with transfers_links, and keeps EVS’s limit/offset below it', async () => {
    const project = `p-${uuid().slice(-6)}`;
    const token = await issuer.issueToken({ projectId: project, userId: 'u', roles: ['member'], ttlSeconds: 600 });
    const t0 = Date.UTC(2026, 0, 1);
    const rows = [
      await pendingRow(project, { createdAtMs: t0 + 1, name: 'b' }),
      await pendingRow(project, { createdAtMs: t0 + 2, name: 'a' }),
      await pendingRow(project, { createdAtMs: t0 + 3, name: 'c' }),
    ];
    const ids = (reply: Reply) => (reply.body as { transfers: { id: string }[] }).transfers.map((t) => t.id);
    const old = await call('GET', `/v3/${project}/os-volume-transfer?limit=2&offset=1`, { token, headers: v3(58) });
    expect(ids(old)).toEqual([rows[1].id, rows[2].id]);
    expect(old.body).not.toHaveProperty('transfers_links');
    for (const route of routes(project)) {
      expect(ids(await call('GET', route, { token, headers: v3(59) }))).toEqual([rows[2].id, rows[1].id, rows[0].id]);
      expect(ids(await call('GET', `${route}/detail?sort=name:asc`, { token, headers: v3(59) }))).toEqual([rows[1].id, rows[0].id, rows[2].id]);
      const first = await call('GET', `${route}?sort_key=created_at&sort_dir=asc&limit=2`, { token, headers: v3(59) });
      expect(ids(first)).toEqual([rows[0].id, rows[1].id]);
      const [next] = (first.body as { transfers_links: { href: string; rel: string }[] }).transfers_links;
      expect(next?.rel).toBe('next');
      expect(next?.href).toContain(`${route}?`);
      const second = await call('GET', next.href.replace(baseUrl, ''), { token, headers: v3(59) });
      expect(ids(second)).toEqual([rows[2].id]);
      expect(second.body).not.toHaveProperty('transfers_links');
    }
  });

  it.each([
    ['sort=size:asc', 'Invalid sort key'],
    ['sort_key=auth_key', 'Invalid sort key'],
    ['sort=id:up', 'direction'],
    ['marker=00000000-0000-4000-8000-00000000ffff', 'marker'],
  ])('refuses %s at 3.59 with a 400 that says why', async (query, mentioned) => {
    const reply = await call('GET', `/v3/${OWNER}/volume-transfers/detail?${query}`, { headers: v3(59) });
    expectError(reply, 400, 'EVS.5400');
    expect((reply.body as { error: { message: string } }).error.message).toContain(mentioned);
  });

  it('treats a marker of another project’s transfer as unknown', async () => {
    const foreign = await pendingRow(RECIPIENT);
    const reply = await call('GET', `/v3/${OWNER}/volume-transfers?marker=${foreign.id}`, { headers: v3('latest') });
    expectError(reply, 400, 'EVS.5400');
  });
});

describe('request ids, unknown routes, health and docs', () => {
  it('generates its own request id on every response, ignoring the client’s', async () => {
    const a = await call('GET', collection(), { headers: { 'X-Request-Id': 'client-chosen' } });
    const b = await call('GET', collection());
    expect(a.headers.get('x-request-id')).toMatch(REQUEST_ID);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('sends the request id as X-OpenStack-Request-Id too, on successes and errors, ignoring the client’s', async () => {
    const ok = await call('GET', collection(), { headers: { 'X-OpenStack-Request-Id': 'req-client-chosen' } });
    expect(ok.headers.get('x-openstack-request-id')).toMatch(REQUEST_ID);
    expect(ok.headers.get('x-openstack-request-id')).toBe(ok.headers.get('x-request-id'));
    expectConforms('listTransfers', ok);
    const refused = await call('GET', collection(), { token: null });
    expectError(refused, 401, 'EVS.5401');
    expect(refused.headers.get('x-openstack-request-id')).toBe(refused.headers.get('x-request-id'));
    const unknown = await call('GET', '/nothing');
    expect(unknown.headers.get('x-openstack-request-id')).toBe(unknown.headers.get('x-request-id'));
  });

  it.each(['/v1/project-a/os-volume-transfer', '/v2/project-a/nothing', '/nothing', '/v1/', '/v4'])('answers 404 in the error shape for %s', async (p) => {
    expectError(await call('GET', p), 404, 'EVS.5404');
  });

  it('serves Cinder’s version discovery at / (300, every version) without credentials', async () => {
    const reply = await call('GET', '/', { token: null });
    expect(reply.status).toBe(300);
    expectConforms('listVersions', reply);
    const { versions } = reply.body as { versions: { id: string; version: string; min_version: string; links: { rel: string; href: string }[] }[] };
    expect(versions.map((v) => [v.id, v.min_version, v.version])).toEqual([
      ['v2.0', '', ''],
      ['v3.0', '3.0', '3.59'],
    ]);
    expect(versions.map((v) => v.links.find((l) => l.rel === 'self')?.href)).toEqual([
      `${baseUrl}/v2/`,
      `${baseUrl}/v3/`,
    ]);
  });

  it.each([
    ['/v3', 'v3.0'],
    ['/v3/', 'v3.0'],
    ['/v2', 'v2.0'],
    ['/v2/', 'v2.0'],
  ])('serves %s as the %s document alone (200), with or without a token', async (p, id) => {
    for (const token of [null, ownerToken, 'not-a-token']) {
      const reply = await call('GET', p, { token });
      expect(reply.status).toBe(200);
      expectConforms('showVersion', reply);
      expect((reply.body as { versions: { id: string }[] }).versions.map((v) => v.id)).toEqual([id]);
    }
  });

  it('names the microversion a /v3 response was served at, errors included, and none under /v2', async () => {
    const plain = await call('GET', `/v3/${OWNER}/os-volume-transfer`);
    expect(plain.status).toBe(200);
    expect([plain.headers.get('openstack-api-version'), plain.headers.get('vary')]).toEqual(['volume 3.0', 'OpenStack-API-Version']);
    const latest = await call('GET', `/v3/${OWNER}/os-volume-transfer`, { headers: { 'OpenStack-API-Version': 'volume latest' } });
    expect(latest.headers.get('openstack-api-version')).toBe('volume 3.59');
    const legacy = await call('GET', `/v3/${OWNER}/os-volume-transfer`, { headers: { 'X-OpenStack-Volume-API-Version': '3.57' } });
    expect(legacy.headers.get('openstack-api-version')).toBe('volume 3.57');
    const refused = await call('GET', `/v3/${OWNER}/os-volume-transfer`, { token: null, headers: { 'OpenStack-API-Version': 'volume 3.55' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('openstack-api-version')).toBe('volume 3.55');
    const v2 = await call('GET', `/v2/${OWNER}/os-volume-transfer`, { headers: { 'OpenStack-API-Version': 'volume 3.59' } });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('openstack-api-version')).toBeNull();
  });

  it.each([
    ['volume 3.60', 406, 'computeFault'],
    ['volume 2.0', 406, 'computeFault'],
    ['volume 3.x', 400, 'badRequest'],
    ['compute 2.1', 404, 'itemNotFound'],
  ])('refuses %j before anything else, in Cinder’s fault body, changing nothing', async (header, status, fault) => {
    const reply = await call('POST', `/v3/${OWNER}/os-volume-transfer`, {
      headers: { 'OpenStack-API-Version': header },
      body: { transfer: { volume_id: '11111111-2222-4333-8444-555555555555' } },
    });
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ [fault]: { code: status, message: expect.any(String) } });
    expect(reply.headers.get('x-openstack-request-id')).toMatch(REQUEST_ID);
    expect(workflows.created).toEqual([]);
  });

  it('serves /healthz without credentials', async () => {
    const reply = await call('GET', '/healthz', { token: null });
    expect(reply.status).toBe(200);
    expectConforms('health', reply);
  });

  it('serves the OpenAPI document at /openapi.json and Swagger UI at /docs', async () => {
    const json = await call('GET', '/openapi.json', { token: null });
    expect(json.status).toBe(200);
    expect(json.headers.get('x-request-id')).toMatch(REQUEST_ID);
    expect(json.body).toEqual(JSON.parse(JSON.stringify(doc)));
    const ui = await call('GET', '/docs', { token: null });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('API audit', () => {
  const auditOf = (requestId: string | null) => publisher.records.find((r) => r.event.id === `api/${requestId}`);

  it('publishes one record per mutating call, with actor, target, outcome, request id and source IP', async () => {
    const volumeId = uuid();
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: volumeId } } });
    const requestId = reply.headers.get('x-request-id');
    const { transfer } = reply.body as { transfer: { id: string; auth_key: string } };
    await vi.waitFor(() => expect(auditOf(requestId)).toBeDefined());
    const record = auditOf(requestId)!;
    expect(record.topic).toBe(TOPICS.apiAudit);
    expect(record.key).toBe(volumeId);
    expect(record.event.data).toEqual({
      request_id: requestId,
      action: API_ACTIONS.create,
      actor_project_id: OWNER,
      actor_user_id: 'alice',
      path_project_id: OWNER,
      transfer_id: transfer.id,
      volume_id: volumeId,
      outcome: 'success',
      http_status: 202,
      error_code: null,
      source_ip: '127.0.0.1',
    });
    expect(JSON.stringify(publisher.records)).not.toContain(transfer.auth_key);
  });

  it('audits refused calls too, including those refused for their credentials', async () => {
    const unauthenticated = await call('POST', `/v2/${RECIPIENT}/os-volume-transfer/${uuid()}/accept`, {
      token: null,
      body: { accept: { auth_key: 'secret-key-value' } },
    });
    workflows.failure = new DomainError('InvalidAuthKey');
    const wrongKey = await call('POST', `/v2/${RECIPIENT}/os-volume-transfer/${uuid()}/accept`, {
      token: recipientToken,
      body: { accept: { auth_key: 'secret-key-value' } },
    });
    await vi.waitFor(() => {
      expect(auditOf(unauthenticated.headers.get('x-request-id'))).toBeDefined();
      expect(auditOf(wrongKey.headers.get('x-request-id'))).toBeDefined();
    });
    expect(auditOf(unauthenticated.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.accept,
      actor_project_id: null,
      outcome: 'failure',
      http_status: 401,
      error_code: 'EVS.5401',
    });
    expect(auditOf(wrongKey.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.accept,
      actor_project_id: RECIPIENT,
      http_status: 400,
      error_code: 'EVS.5440',
    });
    expect(JSON.stringify(publisher.records)).not.toContain('secret-key-value');
  });

  it('does not audit a project’s reads of its own transfers', async () => {
    const reply = await call('GET', collection());
    await new Promise((r) => setTimeout(r, 50));
    expect(auditOf(reply.headers.get('x-request-id'))).toBeUndefined();
  });

  it('audits calls the policy refuses, under the action that was asked', async () => {
    const reply = await call('POST', collection(), { token: readerToken, body: { transfer: { volume_id: uuid() } } });
    await vi.waitFor(() => {
      expect(auditOf(reply.headers.get('x-request-id'))).toBeDefined();
    });
    expect(auditOf(reply.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.create,
      actor_user_id: 'rita',
      http_status: 403,
      error_code: 'EVS.5403',
    });
  });

  it('treats a tenant’s all_tenants list as the read of its own transfers it becomes: not audited', async () => {
    const tenant = await call('GET', `${collection()}?all_tenants=1`);
    expect(tenant.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(auditOf(tenant.headers.get('x-request-id'))).toBeUndefined();
  });

  it('audits an administrator’s all-projects list and force-delete, naming the administrator and the target', async () => {
    const list = await call('GET', `/v3/${ADMIN_PROJECT}/os-volume-transfer/detail?all_tenants=1`, { token: adminToken });
    const foreign = await pendingRow(RECIPIENT);
    const force = await call('POST', `/v3/${ADMIN_PROJECT}/os-volume-transfer/${foreign.id}/action`, {
      token: adminToken,
      body: { 'os-force_delete': {} },
    });
    expect([list.status, force.status]).toEqual([200, 202]);
    await vi.waitFor(() => {
      expect(auditOf(list.headers.get('x-request-id'))).toBeDefined();
      expect(auditOf(force.headers.get('x-request-id'))).toBeDefined();
    });
    expect(auditOf(list.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.listAllProjects,
      actor_project_id: ADMIN_PROJECT,
      actor_user_id: 'root',
      transfer_id: null,
      outcome: 'success',
      http_status: 200,
    });
    expect(auditOf(force.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.forceDelete,
      actor_project_id: ADMIN_PROJECT,
      actor_user_id: 'root',
      transfer_id: foreign.id,
      volume_id: FORCE_DELETED_VOLUME,
      outcome: 'success',
      http_status: 202,
    });
  });

  it('names the disk in the record of a refused force-delete from what the read model knows', async () => {
    const foreign = await pendingRow(RECIPIENT);
    workflows.failure = new DomainError('TransferBusy');
    const force = await call('POST', `/v3/${ADMIN_PROJECT}/os-volume-transfer/${foreign.id}/action`, {
      token: adminToken,
      body: { 'os-force_delete': {} },
    });
    await vi.waitFor(() => expect(auditOf(force.headers.get('x-request-id'))).toBeDefined());
    expect(auditOf(force.headers.get('x-request-id'))!.event.data).toMatchObject({
      action: API_ACTIONS.forceDelete,
      volume_id: foreign.volumeId,
      http_status: 409,
      error_code: 'EVS.5410',
    });
  });

  it('answers at once while Kafka is away, and publishes once it is back', async () => {
    publisher.failuresLeft = 2;
    const row = await pendingRow(OWNER);
    const reply = await call('DELETE', `${collection()}/${row.id}`);
    expect(reply.status).toBe(202);
    await vi.waitFor(() => expect(auditOf(reply.headers.get('x-request-id'))).toBeDefined(), { timeout: 5000 });
    expect(publisher.failuresLeft).toBe(0);
  });
});

describe('request log', () => {
  let lines: string[] = [];
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const requestLine = (requestId: string | null) => records().find((r) => r.context === 'HttpRequest' && r.request_id === requestId);

  beforeEach(() => {
    lines = [];
    // The pino logger main.ts installs, writing here; the harness itself runs with Nest's logging off.
    const pino = createLogger({ service: 'evs-gateway', level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    Logger.overrideLogger(new PinoNestLogger(pino));
  });
  afterEach(() => Logger.overrideLogger(false));

  it('writes one line per request when it ends, with the route template, status, duration, request id, transfer and disk', async () => {
    const id = uuid();
    const volumeId = uuid('33333333');
    workflows.acceptOutcome = { volumeId, name: 't1' };
    const reply = await call('POST', `/v2/${RECIPIENT}/os-volume-transfer/${id}/accept`, {
      token: recipientToken,
      body: { accept: { auth_key: '9266c59563c84664' } },
    });
    expect(reply.status).toBe(202);
    const requestId = reply.headers.get('x-request-id');
    await vi.waitFor(() => expect(requestLine(requestId)).toBeDefined());

    expect(records().filter((r) => r.context === 'HttpRequest' && r.request_id === requestId)).toHaveLength(1);
    expect(requestLine(requestId)).toMatchObject({
      level: 'info',
      msg: 'request completed',
      method: 'POST',
      route: '/v2/{projectId}/os-volume-transfer/{transferId}/accept',
      path: `/v2/${RECIPIENT}/os-volume-transfer/${id}/accept`,
      status: 202,
      duration_ms: expect.any(Number) as unknown,
      project_id: RECIPIENT,
      transfer_id: id,
      disk_id: volumeId,
    });
    const text = lines.join('');
    expect(text).not.toContain('9266c59563c84664');
    expect(text).not.toContain(recipientToken);
  });

  it('writes the path without its query string', async () => {
    const reply = await call('GET', `${collection()}/detail?limit=10&offset=0&name=private-note`);
    expect(reply.status).toBe(200);
    const requestId = reply.headers.get('x-request-id');
    await vi.waitFor(() => expect(requestLine(requestId)).toBeDefined());
    expect(requestLine(requestId)).toMatchObject({ path: `/v2/${OWNER}/os-volume-transfer/detail`, status: 200 });
    expect(lines.join('')).not.toContain('private-note');
  });

  it('puts the request id on every line made while serving the request, an unexpected failure’s included', async () => {
    workflows.failure = new Error('temporal exploded');
    const reply = await call('POST', collection(), { body: { transfer: { volume_id: uuid('22222222') } } });
    expect(reply.status).toBe(500);
    const requestId = reply.headers.get('x-request-id');
    await vi.waitFor(() => expect(requestLine(requestId)).toBeDefined());
    const failure = records().find((r) => r.level === 'error' && String(r.msg).includes('temporal exploded'));
    expect(failure).toMatchObject({ request_id: requestId, context: 'HttpErrorFilter' });
  });

  it('logs health probes at debug only, so they do not bury the API’s lines', async () => {
    const reply = await call('GET', '/healthz', { token: null });
    expect(reply.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requestLine(reply.headers.get('x-request-id'))).toBeUndefined();
  });
});
