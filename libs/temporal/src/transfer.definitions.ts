/**
 * Names both sides of the Temporal boundary share: the gateway (client) and
 * the workflow import this one module, so a rename cannot split them. Keep it
 * free of Node built-ins: the workflow bundle includes it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ErrorName } from '../../domain/src/errors';
import type { CreationFacts } from '../../domain/src/idempotent-create';
import type { Actor, TransferStatus } from '../../domain/src/transfer';

export const TRANSFER_TASK_QUEUE = 'evs-transfers';
export const TRANSFER_WORKFLOW_TYPE = 'transferWorkflow';

const TRANSFER_WORKFLOW_ID_PREFIX = 'evs-transfer-';

/** One workflow per transfer; the id is derived so any process can address it. */
export function transferWorkflowId(transferId: string): string {
  return `${TRANSFER_WORKFLOW_ID_PREFIX}${transferId}`;
}

/** The transfer a workflow id names, or null for another workflow (the reconciler's). */
export function transferIdOfWorkflowId(workflowId: string): string | null {
  return workflowId.startsWith(TRANSFER_WORKFLOW_ID_PREFIX) ? workflowId.slice(TRANSFER_WORKFLOW_ID_PREFIX.length) : null;
}

/**
 * Registered on the Temporal server at start (infra/temporal.sh reads
 * SEARCH_ATTRIBUTE_REGISTRATIONS through infra/scripts/print-search-attributes).
 * Keywords, so the Web UI can filter on exact values.
 */
export const SEARCH_ATTRIBUTES = {
  transferId: defineSearchAttributeKey('EvsTransferId', SearchAttributeType.KEYWORD),
  diskId: defineSearchAttributeKey('EvsDiskId', SearchAttributeType.KEYWORD),
  sourceProjectId: defineSearchAttributeKey('EvsSourceProjectId', SearchAttributeType.KEYWORD),
  destinationProjectId: defineSearchAttributeKey('EvsDestinationProjectId', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('EvsTransferState', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_REGISTRATIONS: readonly string[] = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=Keyword`,
);

/**
 * The workflow's second argument: how it runs, as opposed to what the
 * transfer is (the first, TransferRequest). Optional, so workflows started
 * without it (and their histories) keep the defaults.
 */
export interface TransferWorkflowOptions {
  /**
   * How long create's validation (locking the disk) may take before the
   * transfer is rejected as DependencyUnavailable. Keep it below the
   * gateway's deadline, so the caller gets that definite answer rather than
   * "outcome unknown". Default DEFAULT_VALIDATION_TIMEOUT_MS.
   */
  validationTimeoutMs?: number;
  /**
   * Which of the workflow's changes of shape the starter knows this run may
   * take as given (TRANSFER_WORKFLOW_REVISION when the gateway starts it).
   * Absent in histories from before revisions: those find their shape from
   * their patch markers, as they always have.
   */
  revision?: number;
}

/**
 * The revision new transfers start at. A change to what the workflow records
 * raises it, instead of adding a patch marker: each marker is two history
 * events (the marker, and the TemporalChangeVersion search-attribute update
 * the SDK adds to it) in every transfer, for the life of the code.
 * Revision 1 takes as given every marker up to the read model carrying its
 * events. Workers must run the code that knows a revision before any gateway
 * starts transfers with it: a worker that does not know it ignores it.
 */
export const TRANSFER_WORKFLOW_REVISION = 1;

export const DEFAULT_VALIDATION_TIMEOUT_MS = 20_000;

/** How a transfer's workflow ends: read back by a create retried after the transfer ended. */
export interface TransferWorkflowResult {
  transferId: string;
  status: TransferStatus;
  reason: ErrorName | null;
}

export interface CreationOutcome {
  transferId: string;
  createdAtMs: number;
}

export interface AcceptRequest {
  actor: Actor;
  /** Salted, keyed hash of the presented key: the plaintext never enters history. */
  authKeyHash: string;
}

export interface AcceptOutcome {
  transferId: string;
  volumeId: string;
  name: string | null;
}

export interface DeleteRequest {
  actor: Actor;
}

/** The transfer an administrator force-deleted: the disk is its owner's again. */
export interface ForceDeleteOutcome {
  transferId: string;
  volumeId: string;
  ownerProjectId: string;
}

/** What an operator may see of a transfer; never the key hash. */
export interface TransferView {
  transferId: string;
  volumeId: string;
  status: TransferStatus;
  sourceProjectId: string;
  destinationProjectId: string | null;
  createdAtMs: number;
  expiresAtMs: number;
  failedAccepts: number;
  lockedUntilMs: number | null;
}

/**
 * Create answers only once the disk is locked or the reason it could not be:
 * sent together with the start (update-with-start), so one round trip. The
 * create's own facts come along: a create retried with the same
 * Idempotency-Key lands on the running workflow, which refuses it if it asks
 * for something else. Optional, for histories written before it was sent.
 */
export const awaitCreationUpdate = defineUpdate<CreationOutcome, [CreationFacts?]>('awaitCreation');
/** An update, not a signal: the caller must learn whether ownership moved. */
export const acceptUpdate = defineUpdate<AcceptOutcome, [AcceptRequest]>('accept');
export const deleteUpdate = defineUpdate<void, [DeleteRequest]>('delete');
/** An administrator's delete of any project's transfer; the actor is the administrator. */
export const forceDeleteUpdate = defineUpdate<ForceDeleteOutcome, [DeleteRequest]>('forceDelete');
export const transferViewQuery = defineQuery<TransferView>('transferView');
