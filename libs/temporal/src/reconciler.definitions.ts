/**
 * Names the reconciler's three sides share: the worker (which keeps the
 * Schedule and runs the workflow), the workflow, and whoever triggers a run
 * (npm run reconcile, tests). Workflow-safe, like transfer.definitions.ts.
 */
import type { FindingKind, FindingOutcome } from '../../domain/src/reconciliation';
import { SEARCH_ATTRIBUTES, TRANSFER_WORKFLOW_TYPE } from './transfer.definitions';

/** One Schedule per namespace; the worker creates or updates it at every start. */
export const RECONCILER_SCHEDULE_ID = 'evs-reconciler';
export const RECONCILE_WORKFLOW_TYPE = 'reconcileRunWorkflow';
/** The Schedule appends each run's time to it: evs-reconciler-run-2026-11-28T09:30:00Z. */
export const RECONCILE_RUN_WORKFLOW_ID = 'evs-reconciler-run';

/**
 * Transfers Temporal lists as pending. Visibility lags the workflows a
 * little; the reconciler asks each workflow again before it believes it.
 */
export const PENDING_TRANSFERS_QUERY =
  `WorkflowType = '${TRANSFER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ` +
  `${SEARCH_ATTRIBUTES.state.name} = 'pending'`;

export interface ReconcileOptions {
  /** Locks, or pending transfers, checked per activity. Default DEFAULT_RECONCILE_PAGE_SIZE. */
  pageSize?: number;
}

export const DEFAULT_RECONCILE_PAGE_SIZE = 100;

/** A finding as the run's result lists it. */
export interface ReconciledFinding {
  /** The id of its event on the operations topic. */
  id: string;
  kind: FindingKind;
  transferId: string;
  diskId: string;
  outcome: FindingOutcome;
  needsAttention: boolean;
  summary: string;
  /** False when an earlier run (or another worker) had already published it. */
  publishedNow: boolean;
}

/** What a run returns: the Temporal UI shows it as the workflow's result. */
export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  locksChecked: number;
  pendingTransfersChecked: number;
  /** Disagreements that had resolved themselves by the time their repair came (a transfer ending meanwhile). */
  resolvedBeforeRepair: number;
  released: number;
  needingAttention: number;
  findings: ReconciledFinding[];
}
