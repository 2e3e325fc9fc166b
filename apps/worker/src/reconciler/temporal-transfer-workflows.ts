/**
 * The reconciler's view of Temporal: one transfer's workflow by id
 * (describe, which reads the workflow's own state, so it is current), and
 * the pending ones through visibility (which may lag; the reconciler asks
 * each one again with describe before believing it).
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter, type TypedSearchAttributes } from '@temporalio/common';
import type { FoundWorkflow, ListedPendingTransfer, TransferWorkflowsPort } from '../../../../activities/reconciler.activities';
import type { WorkflowRunStatus } from '../../../../libs/domain/src/reconciliation';
import type { TransferStatus } from '../../../../libs/domain/src/transfer';
import { PENDING_TRANSFERS_QUERY } from '../../../../libs/temporal/src/reconciler.definitions';
import { SEARCH_ATTRIBUTES, transferWorkflowId } from '../../../../libs/temporal/src/transfer.definitions';

const CLOSED: Readonly<Record<string, WorkflowRunStatus>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'canceled',
};

const TRANSFER_STATUSES: ReadonlySet<string> = new Set<TransferStatus>([
  'validating',
  'pending',
  'accepting',
  'deleting',
  'expiring',
  'rejected',
  'accepted',
  'deleted',
  'expired',
]);

/**
 * Only the five plainly closed statuses count as closed. Anything else
 * (running, paused, continued, a status newer than this code) counts as
 * running, and a running transfer's disk is never touched.
 */
export function runStatusOf(statusName: string): WorkflowRunStatus {
  return CLOSED[statusName] ?? 'running';
}

export function observationOf(statusName: string, attributes: TypedSearchAttributes): FoundWorkflow {
  const state = attributes.get(SEARCH_ATTRIBUTES.state);
  return {
    found: true,
    run: runStatusOf(statusName),
    state: state !== undefined && TRANSFER_STATUSES.has(state) ? (state as TransferStatus) : null,
    diskId: attributes.get(SEARCH_ATTRIBUTES.diskId) ?? null,
    sourceProjectId: attributes.get(SEARCH_ATTRIBUTES.sourceProjectId) ?? null,
    destinationProjectId: attributes.get(SEARCH_ATTRIBUTES.destinationProjectId) ?? null,
  };
}

/** One entry of a raw visibility page (the SDK's proto type, reached through the client it comes from). */
type RawExecution = NonNullable<Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>['executions']>[number];

function keyword(execution: RawExecution, name: string): string | null {
  const payload = execution.searchAttributes?.indexedFields?.[name];
  if (payload == null) return null;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof value === 'string' ? value : null;
}

/** A listed pending transfer, or null for one started without the search attributes that say what it moves. */
export function listedPendingTransfer(execution: RawExecution): ListedPendingTransfer | null {
  const transferId = keyword(execution, SEARCH_ATTRIBUTES.transferId.name);
  const diskId = keyword(execution, SEARCH_ATTRIBUTES.diskId.name);
  const sourceProjectId = keyword(execution, SEARCH_ATTRIBUTES.sourceProjectId.name);
  if (transferId === null || diskId === null || sourceProjectId === null) return null;
  if (execution.execution?.workflowId !== transferWorkflowId(transferId)) return null;
  return { transferId, diskId, sourceProjectId };
}

export class TemporalTransferWorkflows implements TransferWorkflowsPort {
  constructor(
    private readonly client: Client,
    private readonly namespace: string,
  ) {}

  async describe(transferId: string): Promise<FoundWorkflow | null> {
    try {
      const description = await this.client.workflow.getHandle(transferWorkflowId(transferId)).describe();
      return observationOf(description.status.name, description.typedSearchAttributes);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** Raw visibility paging, so one activity reads one page and the workflow carries the token. */
  async listPending(page: { pageToken: string | null; limit: number }) {
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.namespace,
      query: PENDING_TRANSFERS_QUERY,
      pageSize: page.limit,
      nextPageToken: page.pageToken === null ? undefined : Buffer.from(page.pageToken, 'base64'),
    });
    const transfers = (response.executions ?? []).flatMap((execution) => listedPendingTransfer(execution) ?? []);
    const token = response.nextPageToken;
    return { transfers, nextPageToken: token != null && token.length > 0 ? Buffer.from(token).toString('base64') : null };
  }
}
