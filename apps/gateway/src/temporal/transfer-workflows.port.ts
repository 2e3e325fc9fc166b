/**
 * What the gateway asks of the transfer workflows. The Temporal adapter
 * implements it; the HTTP layer's tests replace it with a fake. Every method
 * either resolves with the outcome or rejects with a DomainError (already
 * mapped from Temporal's failures), so the HTTP layer never sees Temporal
 * types.
 */
import type { TransferRequest } from '../../../../libs/domain/src/transfer';
import type {
  AcceptOutcome,
  AcceptRequest,
  CreationOutcome,
  DeleteRequest,
  ForceDeleteOutcome,
} from '../../../../libs/temporal/src/transfer.definitions';

export const TRANSFER_WORKFLOWS = 'TRANSFER_WORKFLOWS';

export interface CreateOptions {
  /** The transfer id names this create, not a fresh one: a workflow already under it is the same create, retried. */
  idempotent: boolean;
}

export interface TransferWorkflows {
  /**
   * Starts the transfer's workflow and answers once the disk is locked, or
   * with why it could not be. An idempotent create (its transfer id derived
   * from an Idempotency-Key) joins the workflow a previous try of it started,
   * and is told if that transfer has ended instead.
   */
  create(request: TransferRequest, options?: CreateOptions): Promise<CreationOutcome>;
  /** Answers once ownership has moved, or with why it did not. */
  accept(transferId: string, request: AcceptRequest): Promise<AcceptOutcome>;
  /** Answers once the transfer is deleted and the disk released. */
  delete(transferId: string, request: DeleteRequest): Promise<void>;
  /**
   * An administrator's delete of any project's transfer, pending or stuck
   * accepting. Answers once the disk is its owner's again, or
   * TransferAlreadyAccepted when the accept turned out to have moved it.
   */
  forceDelete(transferId: string, request: DeleteRequest): Promise<ForceDeleteOutcome>;
}
