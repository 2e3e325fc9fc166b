/**
 * Tenants for end-to-end tests: each gets a fresh project id, a real signed
 * token from the local issuer, and helpers to call the gateway and the
 * inventory as that tenant would.
 */
import { randomUUID } from 'node:crypto';
import { type AppConfig, loadConfig } from '../../libs/config/src/config';
import { LocalTokenIssuer } from '../../libs/auth/src/local-issuer';
import { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import type { CreateVolumeAttrs, VolumeView } from '../../libs/inventory-client/src/inventory.wire';
import { testEnv, testStack } from './stack';

export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Signing settings of a stack's local issuer: its key files (in its DATA_DIR), issuer and audience. */
export type IssuerConfig = AppConfig['auth'];

const issuers = new Map<string, LocalTokenIssuer>();
function tokenIssuer(auth: IssuerConfig = loadConfig(testEnv()).auth): LocalTokenIssuer {
  let issuer = issuers.get(auth.jwtPrivateKeyFile);
  if (issuer === undefined) {
    issuer = LocalTokenIssuer.open(auth);
    issuers.set(auth.jwtPrivateKeyFile, issuer);
  }
  return issuer;
}

export function uniqueProjectId(label = 'p'): string {
  return `${label}-${randomUUID().slice(0, 12)}`;
}

export async function issueToken(
  projectId: string,
  userId: string,
  roles: string[] = ['member'],
  auth?: IssuerConfig,
): Promise<string> {
  return tokenIssuer(auth).issueToken({ projectId, userId, roles, ttlSeconds: 3600 });
}

export async function call<T = any>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; baseUrl?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers['x-auth-token'] = options.token;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${options.baseUrl ?? testStack().gatewayUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

export interface TenantOptions {
  /** The gateway (default: the test stack's). */
  baseUrl?: string;
  /** The inventory (default: the test stack's). */
  inventoryUrl?: string;
  /** Whose local issuer signs the token (default: the test stack's, from its DATA_DIR). */
  auth?: IssuerConfig;
  /** The token's roles (default member: what a tenant needs for everything it does). */
  roles?: string[];
}

export class Tenant {
  readonly inventory: InventoryClient;

  private constructor(
    readonly projectId: string,
    readonly userId: string,
    readonly token: string,
    private readonly baseUrl?: string,
    inventory?: InventoryClient,
    private readonly auth?: IssuerConfig,
  ) {
    // The tenant's own token on every call, as a tenant's tool would: a call naming another project is refused.
    this.inventory = inventory ?? new InventoryClient(testStack().inventoryUrl, { tenantToken: () => token });
  }

  static async create(label: string, options: TenantOptions = {}): Promise<Tenant> {
    const projectId = uniqueProjectId(label);
    const userId = `${label}-user`;
    const token = await issueToken(projectId, userId, options.roles ?? ['member'], options.auth);
    const inventory =
      options.inventoryUrl === undefined ? undefined : new InventoryClient(options.inventoryUrl, { tenantToken: () => token });
    return new Tenant(projectId, userId, token, options.baseUrl, inventory, options.auth);
  }

  /** The same tenant, talking to another gateway (of the same stack). */
  via(baseUrl: string): Tenant {
    return new Tenant(this.projectId, this.userId, this.token, baseUrl, this.inventory, this.auth);
  }

  /** Another user of the same project, whose token carries only these roles. */
  async withRoles(roles: string[], userId = `${this.userId}-${roles.join('-') || 'noroles'}`): Promise<Tenant> {
    const token = await issueToken(this.projectId, userId, roles, this.auth);
    return new Tenant(this.projectId, userId, token, this.baseUrl, this.inventory, this.auth);
  }

  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>> {
    return call<T>(method, path, { token: this.token, body, baseUrl: this.baseUrl, headers });
  }

  transfers(version: 'v2' | 'v3' = 'v2'): string {
    return `/${version}/${this.projectId}/os-volume-transfer`;
  }

  /** The list (or with details), with a query such as `all_tenants=1`. */
  listTransfers(options: { detail?: boolean; query?: string; version?: 'v2' | 'v3' } = {}): Promise<ApiAnswer> {
    const path = `${this.transfers(options.version)}${options.detail ? '/detail' : ''}`;
    return this.api('GET', options.query ? `${path}?${options.query}` : path);
  }

  /** An administrator's os-force_delete of a transfer of any project, through the caller's own project's path. */
  forceDeleteTransfer(transferId: string): Promise<ApiAnswer> {
    return this.api('POST', `${this.transfers('v3')}/${transferId}/action`, { 'os-force_delete': {} });
  }

  /** With an idempotency key, safe to send again after a lost answer: the same key and body get the same transfer. */
  createTransfer(volumeId: string, name: string | null = 'e2e', options: { idempotencyKey?: string } = {}): Promise<ApiAnswer> {
    const headers = options.idempotencyKey === undefined ? undefined : { 'Idempotency-Key': options.idempotencyKey };
    return this.api('POST', this.transfers(), { transfer: { volume_id: volumeId, name } }, headers);
  }

  acceptTransfer(transferId: string, authKey: string): Promise<ApiAnswer> {
    return this.api('POST', `${this.transfers()}/${transferId}/accept`, { accept: { auth_key: authKey } });
  }

  showTransfer(transferId: string): Promise<ApiAnswer> {
    return this.api('GET', `${this.transfers()}/${transferId}`);
  }

  deleteTransfer(transferId: string): Promise<ApiAnswer> {
    return this.api('DELETE', `${this.transfers()}/${transferId}`);
  }

  createDisk(attrs: Partial<CreateVolumeAttrs> = {}): Promise<VolumeView> {
    return this.inventory.createVolume(this.projectId, { size: 10, ...attrs });
  }

  disk(volumeId: string): Promise<VolumeView | null> {
    return this.inventory.showVolume(this.projectId, volumeId);
  }

  /** A new disk of this tenant's, in a pending transfer: the starting point of most tests. Throws if the create is refused. */
  async pendingTransfer(size = 10): Promise<PendingTransfer> {
    const disk = await this.createDisk({ size });
    const res = await this.createTransfer(disk.id);
    if (res.status !== 202) throw new Error(`create transfer answered ${res.status}: ${JSON.stringify(res.body)}`);
    return { disk, transfer: res.body.transfer as PendingTransfer['transfer'] };
  }
}

export interface PendingTransfer {
  disk: VolumeView;
  transfer: { id: string; auth_key: string };
}

/** Polls until `probe` returns a value that is not null/undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
