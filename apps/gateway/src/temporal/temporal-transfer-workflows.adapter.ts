/**
 * TransferWorkflows over the Temporal client: one workflow per transfer,
 * addressed by transferWorkflowId(id). Create is update-with-start (start
 * the workflow and wait for its awaitCreation update in one round trip:
 * the caller learns the disk is locked, or why not); accept and delete are
 * updates, not signals, because the caller must learn the outcome.
 *
 * Every call runs under the gateway's deadline (gateway.updateTimeoutMs),
 * both as a gRPC deadline (the server stops long-polling for us) and as a
 * local timer (nothing can make a request wait longer). Past it the caller
 * gets 503 saying the outcome may still complete.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { LoggerService } from '@nestjs/common';
import { DomainError } from '../../../../libs/domain/src/errors';
import { type CreationStanding, retriedCreationRefusal } from '../../../../libs/domain/src/idempotent-create';
import type { TransferRequest } from '../../../../libs/domain/src/transfer';
import {
  acceptUpdate,
  type AcceptOutcome,
  type AcceptRequest,
  awaitCreationUpdate,
  type CreationOutcome,
  deleteUpdate,
  type DeleteRequest,
  type ForceDeleteOutcome,
  forceDeleteUpdate,
  SEARCH_ATTRIBUTES,
  TRANSFER_TASK_QUEUE,
  TRANSFER_WORKFLOW_REVISION,
  TRANSFER_WORKFLOW_TYPE,
  transferWorkflowId,
  type TransferWorkflowOptions,
  type TransferWorkflowResult,
} from '../../../../libs/temporal/src/transfer.definitions';
import type { CreateOptions, TransferWorkflows } from './transfer-workflows.port';
import { mapWorkflowError, WorkflowCallTimeout, type WorkflowOperation } from './workflow-errors';

export interface TemporalTransferWorkflowsOptions {
  updateTimeoutMs: number;
  /** The workflow's bound on create's validation (TransferWorkflowOptions); its default when absent. */
  validationTimeoutMs?: number;
  logger: LoggerService;
}

/** Extra wait for the local timer past the gRPC deadline, so gRPC's own error normally wins. */
const LOCAL_TIMER_GRACE_MS = 1000;

export class TemporalTransferWorkflows implements TransferWorkflows {
  constructor(
    private readonly client: Client,
    private readonly options: TemporalTransferWorkflowsOptions,
  ) {}

  create(request: TransferRequest, { idempotent }: CreateOptions = { idempotent: false }): Promise<CreationOutcome> {
    const startWorkflowOperation = new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
      workflowId: transferWorkflowId(request.transferId),
      taskQueue: TRANSFER_TASK_QUEUE,
      args: this.workflowArgs(request),
      // A random transfer id is new at every create: an existing workflow with it is a bug, never "the same
      // transfer". An idempotent create's id is its key's: a running workflow with it is this create, tried
      // before, and is joined; a closed one is never started again, since its id and its events' ids are spent.
      ...(idempotent
        ? { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE' }
        : { workflowIdConflictPolicy: 'FAIL' }),
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.transferId, value: request.transferId },
        { key: SEARCH_ATTRIBUTES.diskId, value: request.volumeId },
        { key: SEARCH_ATTRIBUTES.sourceProjectId, value: request.owner.projectId },
        { key: SEARCH_ATTRIBUTES.state, value: 'validating' },
      ],
      staticSummary: `Transfer of disk ${request.volumeId} from project ${request.owner.projectId}`,
    });
    return this.call('create', { transferId: request.transferId, diskId: request.volumeId }, async () => {
      try {
        return await this.client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
          startWorkflowOperation,
          // The request id doubles as update id: the Temporal UI then shows which API call asked.
          updateId: request.owner.requestId,
          args: [{ volumeId: request.volumeId, name: request.name }],
        });
      } catch (err) {
        if (idempotent && err instanceof WorkflowExecutionAlreadyStartedError) throw await this.endedCreation(request.transferId);
        throw err;
      }
    });
  }

  /** What a create retried after its transfer's workflow closed is told: the refusal it had, or that it ended. */
  private async endedCreation(transferId: string): Promise<DomainError> {
    let standing: CreationStanding | null = null;
    try {
      const result = (await this.client.workflow.getHandle(transferWorkflowId(transferId)).result()) as TransferWorkflowResult;
      standing = { status: result.status, reason: result.reason };
    } catch (err) {
      // Failed, terminated or timed out: no outcome of its own to repeat. Anything else (Temporal away) is no answer.
      if (!(err instanceof WorkflowFailedError)) throw err;
    }
    const refusal = retriedCreationRefusal(standing) ?? { name: 'IdempotentTransferEnded' as const };
    return new DomainError(refusal.name, refusal.details);
  }

  accept(transferId: string, request: AcceptRequest): Promise<AcceptOutcome> {
    return this.call('accept', { transferId }, () =>
      this.client.workflow
        .getHandle(transferWorkflowId(transferId))
        .executeUpdate(acceptUpdate, { args: [request], updateId: request.actor.requestId }),
    );
  }

  delete(transferId: string, request: DeleteRequest): Promise<void> {
    return this.call('delete', { transferId }, () =>
      this.client.workflow
        .getHandle(transferWorkflowId(transferId))
        .executeUpdate(deleteUpdate, { args: [request], updateId: request.actor.requestId }),
    );
  }

  forceDelete(transferId: string, request: DeleteRequest): Promise<ForceDeleteOutcome> {
    return this.call('forceDelete', { transferId }, () =>
      this.client.workflow
        .getHandle(transferWorkflowId(transferId))
        .executeUpdate(forceDeleteUpdate, { args: [request], updateId: request.actor.requestId }),
    );
  }

  /** The request, and the workflow's options: the revision, and the validation bound when one is configured. */
  private workflowArgs(request: TransferRequest): [TransferRequest, TransferWorkflowOptions] {
    const { validationTimeoutMs } = this.options;
    return [request, { revision: TRANSFER_WORKFLOW_REVISION, ...(validationTimeoutMs === undefined ? {} : { validationTimeoutMs }) }];
  }

  /** `target`: what the log lines name (the disk only where the call knows it, on create). */
  private async call<T>(operation: WorkflowOperation, target: { transferId: string; diskId?: string }, fn: () => Promise<T>): Promise<T> {
    const { transferId } = target;
    const fields = { transfer_id: transferId, ...(target.diskId === undefined ? {} : { disk_id: target.diskId }), operation };
    const timeoutMs = this.options.updateTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const localTimer = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkflowCallTimeout()), timeoutMs + LOCAL_TIMER_GRACE_MS);
    });
    try {
      return await Promise.race([this.client.withDeadline(Date.now() + timeoutMs, fn), localTimer]);
    } catch (err) {
      const { error, unexpected } = mapWorkflowError(err, operation);
      if (unexpected) {
        // Errors from Temporal carry workflow ids and server text, never the auth key (only its hash crosses).
        this.options.logger.error({
          msg: `${operation} of transfer ${transferId} failed: ${err instanceof Error ? err.message : String(err)}`,
          ...fields,
          ...(err instanceof Error ? { err } : {}),
        });
      } else if (error.errorName === 'DependencyUnavailable') {
        // The workflow itself may refuse for an unreachable dependency (create's bounded validation):
        // a definite outcome, not a call that ran out of time.
        this.options.logger.warn({
          msg:
            err instanceof WorkflowUpdateFailedError
              ? `${operation} of transfer ${transferId} refused: a dependency did not answer in time`
              : `${operation} of transfer ${transferId}: no outcome within ${timeoutMs} ms`,
          ...fields,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
