/**
 * The transfer operations behind the HTTP routes. Reads (show, list) come
 * from the read model; writes (create, accept, delete) go to the transfer's
 * workflow, which is the authority and answers with the outcome.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generateAuthKey, hashAuthKey, idempotentCreateIds } from '../../../../libs/auth/src/auth-key';
import type { AppConfig } from '../../../../libs/config/src/config';
import { API_ACTIONS } from '../../../../libs/contracts/src/events';
import { DomainError, type ErrorName } from '../../../../libs/domain/src/errors';
import { type CreationFacts, retriedCreationRefusal, sameCreation } from '../../../../libs/domain/src/idempotent-create';
import type { Actor, TransferRequest } from '../../../../libs/domain/src/transfer';
import type { TransferReadModel, TransferRow } from '../../../../libs/read-model/src/transfer-read-model';
import type { GatewayGuards } from '../guards/gateway-guards.store';
import { APP_CONFIG, AUTH_KEY_SECRET, GATEWAY_GUARDS, TRANSFER_READ_MODEL } from '../gateway.tokens';
import { TRANSFER_WORKFLOWS, type TransferWorkflows } from '../temporal/transfer-workflows.port';
import type { Caller } from './caller.decorator';
import {
  createdView,
  type CreatedTransferView,
  detailView,
  type LinkBase,
  summaryView,
  type TransferDetailView,
  type TransferFacts,
  type TransferSummaryView,
} from './transfer.presenter';
import {
  parseAcceptTransfer,
  parseAllTenants,
  parseCreateTransfer,
  parseIdempotencyKey,
  parseListPage,
  parseTransferAction,
  parseTransferId,
  MAX_LIST_LIMIT,
} from './transfer.validation';
import { nextPageHref, pageOf, parseCinderListQuery, type SortKey, type SortValue } from '../http/cinder-list';
import { supports } from '../versions/microversion';

const facts = (row: TransferRow): TransferFacts => ({
  id: row.id,
  name: row.name,
  volumeId: row.volumeId,
  projectId: row.projectId,
  createdAtMs: row.createdAtMs,
});

/** What a 3.59 list may be sorted by: the transfer's columns (Cinder's display_name as well as name). */
const TRANSFER_SORT_KEYS = ['id', 'created_at', 'name', 'display_name', 'volume_id', 'source_project_id'] as const;
/** Cinder's default order from 3.59 (get_sort_params); below it the order is fixed, created_at then id, ascending. */
const TRANSFER_DEFAULT_SORT: readonly SortKey[] = [{ key: 'created_at', dir: 'desc' }];

function sortValue(row: TransferRow, key: string): SortValue {
  switch (key) {
    case 'created_at':
      return row.createdAtMs;
    case 'name':
    case 'display_name':
      return row.name;
    case 'volume_id':
      return row.volumeId;
    case 'source_project_id':
      return row.projectId;
    default:
      return row.id;
  }
}

export interface TransferLink {
  href: string;
  rel: 'next';
}

interface TransferPage {
  rows: TransferRow[];
  /** Cinder's transfers_links: a next link when a 3.59 page came back full. */
  links: TransferLink[];
}

/**
 * Accept outcomes that look like guessing: a wrong key, a transfer that does
 * not exist (or is not the caller's to see), or more tries at a locked-out
 * transfer. The caller's own rate-limit refusals do not count, so a caller
 * that stops is let back in when Retry-After says.
 */
const GUESSING_OUTCOMES: ReadonlySet<ErrorName> = new Set(['InvalidAuthKey', 'TransferNotFound', 'TooManyFailedAttempts']);

@Injectable()
export class TransferService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TRANSFER_WORKFLOWS) private readonly workflows: TransferWorkflows,
    @Inject(TRANSFER_READ_MODEL) private readonly readModel: TransferReadModel,
    @Inject(AUTH_KEY_SECRET) private readonly authKeySecret: Buffer,
    @Inject(GATEWAY_GUARDS) private readonly guards: GatewayGuards,
  ) {}

  /**
   * Without an Idempotency-Key, a new transfer with a random id and key.
   * With one, the id and key follow from (project, key), so a retry after a
   * lost answer reaches the same workflow and answers with the same key;
   * the workflow (or, once it has closed, its result) says whether the retry
   * is the same create and whether the transfer is still there.
   */
  async create(caller: Caller, body: unknown, idempotencyKeyHeader?: readonly string[]): Promise<{ transfer: CreatedTransferView }> {
    this.requireCollection(caller);
    const input = parseCreateTransfer(body, { noSnapshots: caller.collection === 'volume-transfers' });
    const idempotencyKey = parseIdempotencyKey(idempotencyKeyHeader);
    // The plaintext key lives in this function and the response only.
    const { transferId, authKey } =
      idempotencyKey === null
        ? { transferId: randomUUID(), authKey: generateAuthKey() }
        : idempotentCreateIds(this.authKeySecret, caller.principal.projectId, idempotencyKey);
    caller.context.target = { transferId, volumeId: input.volumeId };
    if (idempotencyKey !== null) await this.refuseRetryOfEnded(transferId, input);
    const request: TransferRequest = {
      transferId,
      volumeId: input.volumeId,
      name: input.name,
      owner: this.actor(caller),
      createdAtMs: Date.now(),
      authKeyHash: hashAuthKey(this.authKeySecret, transferId, authKey),
      policy: { ...this.config.transferPolicy },
    };
    const outcome = await this.workflows.create(request, { idempotent: idempotencyKey !== null });
    const transfer = { id: transferId, name: input.name, volumeId: input.volumeId, projectId: caller.projectId, createdAtMs: outcome.createdAtMs };
    return { transfer: createdView(this.linkBase(caller), transfer, authKey, caller.microversion) };
  }

  /**
   * The read model keeps an ended transfer's row after Temporal has let go
   * of its workflow (namespace retention): without this look, a key retried
   * that late would start a second life under a spent transfer id.
   */
  private async refuseRetryOfEnded(transferId: string, asked: CreationFacts): Promise<void> {
    const row = await this.readModel.findAnyProject(transferId);
    if (row === null || row.status === 'pending') return;
    // A tombstone written before its pending row (an ending recorded first) has no disk to compare.
    if (row.volumeId !== null && !sameCreation({ volumeId: row.volumeId, name: row.name }, asked)) {
      throw new DomainError('IdempotencyKeyReused');
    }
    const refusal = retriedCreationRefusal({ status: row.status, reason: null });
    if (refusal) throw new DomainError(refusal.name, refusal.details);
  }

  /**
   * Straight to the workflow: the acceptor cannot see the owner's transfer
   * in the read model, and the workflow checks the key, the projects and
   * the lock-out. The calling project's failures over all transfers are
   * limited here first, in the database every gateway shares.
   */
  async accept(caller: Caller, rawTransferId: string | undefined, body: unknown): Promise<{ transfer: TransferSummaryView }> {
    this.requireCollection(caller);
    const { authKey } = parseAcceptTransfer(body);
    const transferId = parseTransferId(rawTransferId);
    caller.context.target.transferId = transferId;
    const callerKey = caller.principal.projectId;
    const attempt = await this.guards.reserveAccept(callerKey, Date.now());
    if (!attempt.allowed) {
      throw new DomainError('CallerRateLimited', { retryAfterSeconds: Math.ceil(attempt.retryAfterMs / 1000) });
    }
    let outcome: Awaited<ReturnType<TransferWorkflows['accept']>>;
    try {
      outcome = await this.workflows.accept(transferId, {
        actor: this.actor(caller),
        authKeyHash: hashAuthKey(this.authKeySecret, transferId, authKey),
      });
    } catch (err) {
      // A guess keeps its attempt counted; anything else gives it back.
      if (!(err instanceof DomainError && GUESSING_OUTCOMES.has(err.errorName))) await this.giveBack(callerKey, attempt.attemptId);
      throw err;
    }
    await this.giveBack(callerKey, attempt.attemptId);
    caller.context.target.volumeId = outcome.volumeId;
    const transfer = { id: transferId, name: outcome.name, volumeId: outcome.volumeId };
    return { transfer: summaryView(this.linkBase(caller), transfer) };
  }

  /**
   * Only a transfer the caller's project sees as pending is sent to the
   * workflow: another project's is answered 404 here, so nothing about it
   * leaks (not even through timing of a workflow call). The workflow still
   * decides, e.g. when an accept won the race.
   */
  /**
   * An administrator's delete of any project's transfer (the policy table
   * has let only admins here). Straight to the workflow, which decides, so a
   * transfer the read model no longer lists (an accept stuck past its
   * expiry time) can still be ended; the read model only names the disk for
   * the audit record should the workflow refuse.
   */
  async forceDelete(caller: Caller, rawTransferId: string | undefined, body: unknown): Promise<void> {
    this.requireCollection(caller);
    parseTransferAction(body);
    const transferId = parseTransferId(rawTransferId);
    caller.context.target = { transferId, volumeId: (await this.readModel.findAnyProject(transferId))?.volumeId ?? null };
    const outcome = await this.workflows.forceDelete(transferId, { actor: this.actor(caller) });
    caller.context.target.volumeId = outcome.volumeId;
  }

  async delete(caller: Caller, rawTransferId: string | undefined): Promise<void> {
    this.requireCollection(caller);
    const transferId = parseTransferId(rawTransferId);
    caller.context.target.transferId = transferId;
    const row = await this.readModel.findPending(caller.projectId, transferId);
    if (row === null) throw new DomainError('TransferNotFound');
    caller.context.target.volumeId = row.volumeId;
    await this.workflows.delete(transferId, { actor: this.actor(caller) });
  }

  async show(caller: Caller, rawTransferId: string | undefined): Promise<{ transfer: TransferDetailView }> {
    this.requireCollection(caller);
    const transferId = parseTransferId(rawTransferId);
    const row = await this.readModel.findPending(caller.projectId, transferId);
    if (row === null) throw new DomainError('TransferNotFound');
    return { transfer: detailView(this.linkBase(caller), facts(row), caller.microversion) };
  }

  async list(caller: Caller, query: Record<string, unknown>): Promise<{ transfers: TransferSummaryView[]; transfers_links?: TransferLink[] }> {
    const page = await this.pendingPage(caller, query, false);
    const transfers = page.rows.map((r) => summaryView(this.linkBase(caller, r.projectId), facts(r)));
    return page.links.length > 0 ? { transfers, transfers_links: page.links } : { transfers };
  }

  async listDetail(caller: Caller, query: Record<string, unknown>): Promise<{ transfers: TransferDetailView[]; transfers_links?: TransferLink[] }> {
    const page = await this.pendingPage(caller, query, true);
    const transfers = page.rows.map((r) => detailView(this.linkBase(caller, r.projectId), facts(r), caller.microversion));
    return page.links.length > 0 ? { transfers, transfers_links: page.links } : { transfers };
  }

  /**
   * The volume-transfers routes exist from microversion 3.55; asked for at
   * a lower version they are, as in Cinder, not there at all (404).
   */
  private requireCollection(caller: Caller): void {
    if (caller.collection === 'volume-transfers' && !supports(caller.microversion, 'transferNoSnapshots')) {
      throw new DomainError('NotFound', { message: 'The volume-transfers API needs microversion 3.55 or later (OpenStack-API-Version: volume 3.55).' });
    }
  }

  /**
   * The caller's project's pending transfers, or every project's when the
   * request is the all-projects list (RouteActionGuard decided that from
   * all_tenants, and the policy table let only admins through). The body
   * has no field for a transfer's project, so the links name it.
   *
   * Below 3.59: EVS's limit/offset over the fixed order. From 3.59:
   * Cinder's sort, marker, limit and offset over the project's pending
   * transfers (few: each holds one disk), with a next link when full.
   */
  private async pendingPage(caller: Caller, query: Record<string, unknown>, detail: boolean): Promise<TransferPage> {
    this.requireCollection(caller);
    const allProjects = caller.context.action === API_ACTIONS.listAllProjects;
    if (allProjects && parseAllTenants(query) === null) {
      throw new DomainError('BadRequest', { message: 'Query parameter all_tenants must be a boolean such as 1, 0, true or false.' });
    }
    if (!supports(caller.microversion, 'transferPagination')) {
      const page = parseListPage(query);
      const rows = allProjects ? await this.readModel.listPendingAllProjects(page) : await this.readModel.listPending(caller.projectId, page);
      return { rows, links: [] };
    }
    const q = parseCinderListQuery(query, TRANSFER_SORT_KEYS, TRANSFER_DEFAULT_SORT);
    const page = pageOf(await this.allPending(caller, allProjects), q, sortValue, (r) => r.id);
    const last = page.items.at(-1);
    if (!page.full || last === undefined) return { rows: page.items, links: [] };
    const base = this.linkBase(caller);
    const path = `${base.baseUrl}/${base.version}/${caller.projectId}/${caller.collection}${detail ? '/detail' : ''}`;
    return { rows: page.items, links: [{ href: nextPageHref(path, query, last.id), rel: 'next' }] };
  }

  private async allPending(caller: Caller, allProjects: boolean): Promise<TransferRow[]> {
    const rows: TransferRow[] = [];
    for (let offset = 0; ; offset += MAX_LIST_LIMIT) {
      const page = { limit: MAX_LIST_LIMIT, offset };
      const batch = allProjects ? await this.readModel.listPendingAllProjects(page) : await this.readModel.listPending(caller.projectId, page);
      rows.push(...batch);
      if (batch.length < MAX_LIST_LIMIT) return rows;
    }
  }

  /**
   * The accept's answer is already decided: a database that fails now must
   * not turn it into an error. The attempt then stays counted until its
   * window passes, which errs towards refusing.
   */
  private async giveBack(projectId: string, attemptId: string): Promise<void> {
    await this.guards.releaseAccept(projectId, attemptId).catch(() => undefined);
  }

  private actor(caller: Caller): Actor {
    return { projectId: caller.principal.projectId, userId: caller.principal.userId, requestId: caller.context.requestId };
  }

  private linkBase(caller: Caller, projectId: string = caller.projectId): LinkBase {
    return {
      baseUrl: caller.requestBaseUrl(this.config.gateway.publicBaseUrl),
      version: caller.version,
      projectId,
    };
  }
}
