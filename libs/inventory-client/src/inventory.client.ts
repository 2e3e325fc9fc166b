/**
 * Typed HTTP client of the disk inventory (apps/inventory).
 *
 * Transfer steps (used by the worker's activities) answer business outcomes
 * as values and THROW for everything else:
 * - InventoryUnavailableError: no answer (network, timeout), a 5xx, or an
 *   unreadable answer. Retrying may help; activities let Temporal retry it.
 * - InventoryRequestError: a 4xx that is not a business outcome. A 400 (a
 *   malformed call) will be refused again however often it is retried; a 401
 *   means the service secret is not the inventory's, a deployment fault that
 *   a retry outlives once the two agree (each try is signed afresh), so
 *   activities leave both to Temporal's retry policy.
 * Tenant methods (tests, tools) return the created or shown resource and
 * throw InventoryRequestError for any refusal, with the error's name.
 *
 * Transfer steps are signed with the service secret; tenant calls carry the
 * X-Auth-Token of the project they name (docs/inventory-api.md,
 * "Authentication").
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { z } from 'zod';
import { signServiceRequest } from '../../auth/src/service-signature';
import { AUTH_TOKEN_HEADER } from '../../auth/src/token-verifier';
import { BILLING_MODES, DISK_STATUSES, STORAGE_KINDS, TRANSFER_RULES, type DiskFacts } from '../../domain/src/disk';
import { isErrorName, type ErrorName } from '../../domain/src/errors';
import {
  TRANSFER_NOT_HOLDING_DISK,
  type BackupView,
  type CreateVolumeAttrs,
  type InventoryErrorName,
  type ProjectVolumesResponse,
  type QuotaLimitsChange,
  type QuotaSetView,
  type SnapshotView,
  type VolumeAction,
  type VolumeSummaryView,
  type VolumeView,
} from './inventory.wire';

export interface InventoryClientOptions {
  /** Per request, including reading the body. Default 5000. */
  timeoutMs?: number;
  /** The secret of config.inventory.serviceSecretFile; without it transfer steps go unsigned (and are refused). */
  serviceSecret?: Buffer;
  /** The X-Auth-Token for a tenant call on `projectId`; without it tenant calls go without one (and are refused). */
  tenantToken?: (projectId: string) => string | Promise<string>;
  /** Told of every call once it ends, for metrics. */
  observe?: InventoryCallObserver;
}

/** One finished call: `status` is the HTTP status, or 0 when no answer came. */
export interface InventoryCall {
  method: string;
  /** The path's template (`/internal/v1/disks/{disk_id}/reassign`), never the ids in it. */
  route: string;
  status: number;
  seconds: number;
}
export type InventoryCallObserver = (call: InventoryCall) => void;

/** Whose credentials a call carries: the service's, a project's token, or none (health). */
type Caller = 'service' | { projectId: string } | 'anonymous';

export type LockResult = { ok: true; disk: DiskFacts } | { ok: false; reason: ErrorName };
export type ReassignResult =
  | { ok: true; disk: DiskFacts }
  | { ok: false; reason: ErrorName | typeof TRANSFER_NOT_HOLDING_DISK };
export interface ReleaseResult {
  released: boolean;
  disk: DiskFacts | null;
}

/** One page of disks awaiting transfer; `nextMarker` asks for the next, null after the last. */
export interface TransferLocksPage {
  disks: DiskFacts[];
  nextMarker: string | null;
}

/** No usable answer: retrying may help. */
export class InventoryUnavailableError extends Error {
  /** The 5xx the inventory answered, or 0 when no answer came. */
  readonly status: number;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = 'InventoryUnavailableError';
    this.status = options?.status ?? 0;
  }
}

/** The inventory refused the request itself; the same request will be refused again. */
export class InventoryRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: InventoryErrorName | null,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'InventoryRequestError';
  }
}

const diskFactsSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  status: z.enum(DISK_STATUSES),
  sizeGb: z.number(),
  volumeType: z.string(),
  bootable: z.boolean(),
  encrypted: z.boolean(),
  snapshotCount: z.number(),
  backupCount: z.number(),
  backupPolicyId: z.string().nullable(),
  replicationPairId: z.string().nullable(),
  billingMode: z.enum(BILLING_MODES),
  frozen: z.boolean(),
  storageKind: z.enum(STORAGE_KINDS),
  transferId: z.string().nullable(),
}) satisfies z.ZodType<DiskFacts>;

const diskResponseSchema = z.object({ disk: diskFactsSchema });
const releaseResponseSchema = z.object({ released: z.boolean(), disk: diskFactsSchema.nullable() });
const transferLocksResponseSchema = z.object({ disks: z.array(diskFactsSchema), next_marker: z.string().nullable() });
const errorBodySchema = z.object({
  error: z.object({ name: z.string(), code: z.string(), message: z.string() }),
});

interface HttpAnswer {
  status: number;
  body: unknown;
}

type ErrorEnvelope = z.output<typeof errorBodySchema>['error'];

const DEFAULT_TIMEOUT_MS = 5000;
const JSON_ACCEPT = { accept: 'application/json' };
const JSON_SEND = { ...JSON_ACCEPT, 'content-type': 'application/json' };

export class InventoryClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly serviceSecret: Buffer | undefined;
  private readonly tenantToken: InventoryClientOptions['tenantToken'];
  private readonly observe: InventoryCallObserver | undefined;

  constructor(baseUrl: string, options: InventoryClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.serviceSecret = options.serviceSecret;
    this.tenantToken = options.tenantToken;
    this.observe = options.observe;
  }

  // ---- transfer steps (internal API) --------------------------------------

  async getDisk(diskId: string): Promise<DiskFacts | null> {
    const path = `/internal/v1/disks/${seg(diskId)}`;
    const answer = await this.request('GET', path, 'service');
    if (answer.status === 200) return this.parse(diskResponseSchema, answer, path).disk;
    if (answer.status === 404 && errorOf(answer)?.name === 'DiskNotFound') return null;
    throw requestError(answer, path);
  }

  /**
   * Every volume of `projectId`, oldest first, through the internal API
   * (service credentials), a page of `pageSize` at a time.
   */
  async listProjectVolumes(projectId: string, pageSize = 1000): Promise<VolumeView[]> {
    const volumes: VolumeView[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const path = `/internal/v1/projects/${seg(projectId)}/volumes${query({ limit: pageSize, offset })}`;
      const answer = await this.request('GET', path, 'service');
      if (answer.status !== 200) throw requestError(answer, path);
      const page = (answer.body as ProjectVolumesResponse).volumes;
      volumes.push(...page);
      if (page.length < pageSize) return volumes;
    }
  }

  async lockForTransfer(args: { diskId: string; projectId: string; transferId: string }): Promise<LockResult> {
    const path = `/internal/v1/disks/${seg(args.diskId)}/transfer-lock`;
    const answer = await this.request('POST', path, 'service', { project_id: args.projectId, transfer_id: args.transferId });
    if (answer.status === 200) return { ok: true, disk: this.parse(diskResponseSchema, answer, path).disk };
    const reason = refusalIn(answer, LOCK_REFUSALS);
    if (reason !== null) return { ok: false, reason };
    throw requestError(answer, path);
  }

  async releaseTransferLock(args: { diskId: string; transferId: string }): Promise<ReleaseResult> {
    const path = `/internal/v1/disks/${seg(args.diskId)}/transfer-lock/release`;
    const answer = await this.request('POST', path, 'service', { transfer_id: args.transferId });
    if (answer.status === 200) return this.parse(releaseResponseSchema, answer, path);
    throw requestError(answer, path);
  }

  async reassign(args: { diskId: string; transferId: string; toProjectId: string }): Promise<ReassignResult> {
    const path = `/internal/v1/disks/${seg(args.diskId)}/reassign`;
    const answer = await this.request('POST', path, 'service', { transfer_id: args.transferId, to_project_id: args.toProjectId });
    if (answer.status === 200) return { ok: true, disk: this.parse(diskResponseSchema, answer, path).disk };
    const reason = refusalIn(answer, REASSIGN_REFUSALS);
    if (reason !== null) return { ok: false, reason };
    throw requestError(answer, path);
  }

  /** Disks awaiting transfer across all projects, in disk id order, from after `marker`. */
  async listTransferLocks(page: { limit?: number; marker?: string | null } = {}): Promise<TransferLocksPage> {
    const params = new URLSearchParams();
    if (page.limit !== undefined) params.set('limit', String(page.limit));
    if (page.marker != null) params.set('marker', page.marker);
    const search = params.toString();
    const path = `/internal/v1/transfer-locks${search === '' ? '' : `?${search}`}`;
    const answer = await this.request('GET', path, 'service');
    if (answer.status !== 200) throw requestError(answer, path);
    const parsed = this.parse(transferLocksResponseSchema, answer, path);
    return { disks: parsed.disks, nextMarker: parsed.next_marker };
  }

  /** True when the inventory answers its health check; never throws. */
  async isHealthy(): Promise<boolean> {
    try {
      return (await this.request('GET', '/healthz', 'anonymous')).status === 200;
    } catch {
      return false;
    }
  }

  // ---- tenant API -----------------------------------------------------------

  async createVolume(projectId: string, attrs: CreateVolumeAttrs): Promise<VolumeView> {
    const path = `/v3/${seg(projectId)}/volumes`;
    return (await this.tenant<{ volume: VolumeView }>(projectId, 'POST', path, { volume: attrs })).volume;
  }

  /** The volume, or null when it does not exist or belongs to another project. */
  async showVolume(projectId: string, volumeId: string): Promise<VolumeView | null> {
    const path = `/v3/${seg(projectId)}/volumes/${seg(volumeId)}`;
    const answer = await this.request('GET', path, { projectId });
    if (answer.status === 200) return (answer.body as { volume: VolumeView }).volume;
    if (answer.status === 404) return null;
    throw requestError(answer, path);
  }

  async listVolumes(projectId: string, page: { limit?: number; offset?: number } = {}): Promise<VolumeSummaryView[]> {
    return (await this.tenant<{ volumes: VolumeSummaryView[] }>(projectId, 'GET', `/v3/${seg(projectId)}/volumes${query(page)}`))
      .volumes;
  }

  async listVolumesDetail(projectId: string, page: { limit?: number; offset?: number } = {}): Promise<VolumeView[]> {
    const path = `/v3/${seg(projectId)}/volumes/detail${query(page)}`;
    return (await this.tenant<{ volumes: VolumeView[] }>(projectId, 'GET', path)).volumes;
  }

  async deleteVolume(projectId: string, volumeId: string): Promise<void> {
    await this.tenant(projectId, 'DELETE', `/v3/${seg(projectId)}/volumes/${seg(volumeId)}`);
  }

  /** Any volume action; the helpers below name the common ones. */
  async volumeAction(projectId: string, volumeId: string, action: VolumeAction): Promise<void> {
    await this.tenant(projectId, 'POST', `/v3/${seg(projectId)}/volumes/${seg(volumeId)}/action`, action);
  }

  attach(projectId: string, volumeId: string, serverId: string): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-attach': { instance_uuid: serverId } });
  }

  detach(projectId: string, volumeId: string): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-detach': {} });
  }

  extend(projectId: string, volumeId: string, newSizeGb: number): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-extend': { new_size: newSizeGb } });
  }

  setBackupPolicy(projectId: string, volumeId: string, policyId: string | null): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-set-backup-policy': { policy_id: policyId } });
  }

  setEncryption(projectId: string, volumeId: string, encrypted: boolean): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-set-encryption': { encrypted } });
  }

  changeBilling(projectId: string, volumeId: string, billingMode: 'postpaid' | 'prepaid'): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-change-billing': { billing_mode: billingMode } });
  }

  setFrozen(projectId: string, volumeId: string, frozen: boolean): Promise<void> {
    return this.volumeAction(projectId, volumeId, { 'os-freeze': { frozen } });
  }

  async createSnapshot(projectId: string, volumeId: string, name?: string): Promise<SnapshotView> {
    const body = { snapshot: { volume_id: volumeId, ...(name === undefined ? {} : { name }) } };
    return (await this.tenant<{ snapshot: SnapshotView }>(projectId, 'POST', `/v3/${seg(projectId)}/snapshots`, body)).snapshot;
  }

  async deleteSnapshot(projectId: string, snapshotId: string): Promise<void> {
    await this.tenant(projectId, 'DELETE', `/v3/${seg(projectId)}/snapshots/${seg(snapshotId)}`);
  }

  async createBackup(projectId: string, volumeId: string, name?: string): Promise<BackupView> {
    const body = { backup: { volume_id: volumeId, ...(name === undefined ? {} : { name }) } };
    return (await this.tenant<{ backup: BackupView }>(projectId, 'POST', `/v3/${seg(projectId)}/backups`, body)).backup;
  }

  async deleteBackup(projectId: string, backupId: string): Promise<void> {
    await this.tenant(projectId, 'DELETE', `/v3/${seg(projectId)}/backups/${seg(backupId)}`);
  }

  /** Limits and usage of `targetProjectId` (default: the calling project itself). */
  async getQuota(projectId: string, targetProjectId = projectId): Promise<QuotaSetView> {
    const path = `/v3/${seg(projectId)}/os-quota-sets/${seg(targetProjectId)}`;
    return (await this.tenant<{ quota_set: QuotaSetView }>(projectId, 'GET', path)).quota_set;
  }

  async setQuota(projectId: string, limits: QuotaLimitsChange, targetProjectId = projectId): Promise<QuotaSetView> {
    const path = `/v3/${seg(projectId)}/os-quota-sets/${seg(targetProjectId)}`;
    return (await this.tenant<{ quota_set: QuotaSetView }>(projectId, 'PUT', path, { quota_set: limits })).quota_set;
  }

  // ---- plumbing -------------------------------------------------------------

  private async tenant<T = unknown>(projectId: string, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, { projectId }, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw requestError(answer, path);
  }

  /** One HTTP exchange; throws InventoryUnavailableError unless a 2xx-4xx answer was read whole. */
  /** One call, as a client span (its context in the request's traceparent) and a timed observation. */
  private async request(method: string, path: string, caller: Caller, body?: unknown): Promise<HttpAnswer> {
    const route = inventoryRoute(path);
    const span = trace.getTracer('evs-disk-transfer').startSpan(`${method} ${route}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.template': route, 'server.address': new URL(this.baseUrl).hostname },
    });
    const started = process.hrtime.bigint();
    let status = 0;
    try {
      const answer = await context.with(trace.setSpan(context.active(), span), () => this.send(method, path, caller, body));
      status = answer.status;
      return answer;
    } catch (err) {
      if (err instanceof InventoryUnavailableError) status = err.status;
      span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
      throw err;
    } finally {
      span.setAttribute('http.response.status_code', status);
      if (status === 0 || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      this.observe?.({ method, route, status, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    }
  }

  private async send(method: string, path: string, caller: Caller, body?: unknown): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(`${this.baseUrl}${path}`);
    const headers: Record<string, string> = {
      ...(payload === undefined ? JSON_ACCEPT : JSON_SEND),
      ...(await this.credentials(caller, method, url, payload)),
    };
    // The W3C traceparent of the active span (this call's); nothing when tracing is off. Signatures do not cover it.
    propagation.inject(context.active(), headers);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
    } catch (err) {
      throw new InventoryUnavailableError(`${method} ${path}: ${describe(err)}`, { cause: err });
    }
    if (response.status >= 500) {
      const excerpt = text.slice(0, 200);
      throw new InventoryUnavailableError(`${method} ${path}: inventory answered ${response.status} ${excerpt}`, { status: response.status });
    }
    if (text === '') return { status: response.status, body: undefined };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch (err) {
      throw new InventoryUnavailableError(`${method} ${path}: unreadable answer (${response.status})`, { cause: err });
    }
  }

  /** The signature covers the URL as fetch sends it, so it is taken from the parsed URL, not the string built above. */
  private async credentials(caller: Caller, method: string, url: URL, payload: string | undefined): Promise<Record<string, string>> {
    if (caller === 'anonymous') return {};
    if (caller === 'service') {
      if (this.serviceSecret === undefined) return {};
      const parts = { method, path: url.pathname, query: url.search.slice(1), body: payload ?? '' };
      return { authorization: signServiceRequest(this.serviceSecret, parts) };
    }
    if (this.tenantToken === undefined) return {};
    return { [AUTH_TOKEN_HEADER]: await this.tenantToken(caller.projectId) };
  }

  private parse<S extends z.ZodType>(schema: S, answer: HttpAnswer, path: string): z.output<S> {
    const parsed = schema.safeParse(answer.body);
    if (!parsed.success) {
      throw new InventoryUnavailableError(`${path}: answer does not match the contract: ${parsed.error.message}`);
    }
    return parsed.data;
  }
}

/**
 * The template of an inventory path: the segment after each collection that
 * names an id is replaced by the id's name, and the query is dropped, so a
 * metric or span name has one value per endpoint whatever the ids.
 */
export function inventoryRoute(path: string): string {
  const segments = path.split('?', 1)[0].split('/');
  return segments
    .map((segment, i) => {
      const id = ID_AFTER[segments[i - 1] ?? ''];
      return id !== undefined && segment !== '' && !LITERAL_CHILDREN.has(segment) ? id : segment;
    })
    .join('/');
}

const ID_AFTER: Record<string, string> = {
  disks: '{disk_id}',
  projects: '{project_id}',
  v3: '{project_id}',
  volumes: '{volume_id}',
  'os-quota-sets': '{target_project_id}',
  snapshots: '{snapshot_id}',
  backups: '{backup_id}',
};
/** Fixed names that sit where an id could: /v3/{project_id}/volumes/detail. */
const LITERAL_CHILDREN = new Set(['detail']);

function seg(value: string): string {
  return encodeURIComponent(value);
}

function query(page: { limit?: number; offset?: number }): string {
  const params = new URLSearchParams();
  if (page.limit !== undefined) params.set('limit', String(page.limit));
  if (page.offset !== undefined) params.set('offset', String(page.offset));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.name}: ${err.message}${cause}`;
}

function errorOf(answer: HttpAnswer): ErrorEnvelope | null {
  const parsed = errorBodySchema.safeParse(answer.body);
  return parsed.success ? parsed.data.error : null;
}

/**
 * The refusals a transfer step reports as outcomes, with the status each
 * comes with. Anything else (a 404 "NotFound" from a wrong base URL, a 400
 * for a malformed call) is thrown, never mistaken for a verdict on the disk.
 */
const CONSTRAINT_REFUSALS: [ErrorName, number][] = TRANSFER_RULES.map((r) => [r.error, 422]);
const LOCK_REFUSALS = new Map<ErrorName, number>([
  ['DiskNotFound', 404],
  ['DiskAlreadyInTransfer', 409],
  ...CONSTRAINT_REFUSALS,
]);
const REASSIGN_REFUSALS = new Map<InventoryErrorName, number>([
  ['DiskNotFound', 404],
  [TRANSFER_NOT_HOLDING_DISK, 409],
  ['QuotaExceeded', 413],
  ...CONSTRAINT_REFUSALS,
]);

function refusalIn<N extends InventoryErrorName>(answer: HttpAnswer, expected: ReadonlyMap<N, number>): N | null {
  const name = errorOf(answer)?.name as N | undefined;
  if (name === undefined || expected.get(name) !== answer.status) return null;
  return name;
}

function knownErrorName(name: string): InventoryErrorName | null {
  return name === TRANSFER_NOT_HOLDING_DISK || isErrorName(name) ? name : null;
}

function requestError(answer: HttpAnswer, path: string): InventoryRequestError {
  const error = errorOf(answer);
  const message = error?.message ?? `unexpected answer ${answer.status}`;
  return new InventoryRequestError(
    answer.status,
    error === null ? null : knownErrorName(error.name),
    error?.code ?? null,
    `${path}: ${message}`,
  );
}
