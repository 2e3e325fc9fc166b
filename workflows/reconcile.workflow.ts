/**
 * One reconcile run, started by the Schedule evs-reconciler (or a trigger of
 * it): walk every transfer lock, then every pending transfer, judge each with
 * the pure checks of libs/domain, release the locks they allow, and publish
 * and return the findings. The run holds no state between runs; what was
 * already published is remembered by the publishing activity.
 */
import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { LockInspection, PendingInspection, ReconcilerActivities } from '../activities';
import { reconcilerFindingId, reconcilerFindingRecord } from '../libs/contracts/src/events';
import {
  checkLockedDisk,
  checkPendingTransfer,
  describeFinding,
  type FindingOutcome,
  needsAttention,
  type ReconcileFinding,
  settleFinding,
} from '../libs/domain/src/reconciliation';
import {
  DEFAULT_RECONCILE_PAGE_SIZE,
  type ReconcileOptions,
  type ReconcileReport,
} from '../libs/temporal/src/reconciler.definitions';

/**
 * Reads and repairs give up after a few tries: a run that cannot reach the
 * inventory or Temporal fails, visibly, and the next run starts afresh.
 */
const bounded = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
const inspecting = proxyActivities<ReconcilerActivities>({ startToCloseTimeout: '2m', retry: bounded });
const repairing = proxyActivities<ReconcilerActivities>({ startToCloseTimeout: '30s', retry: bounded });

/**
 * Publishing does not give up: a lock this run released is found by no later
 * run, so its finding exists only here until Kafka has it. The Schedule skips
 * runs while this one waits out a broker outage.
 */
const publishing = proxyActivities<ReconcilerActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

interface Settled {
  finding: ReconcileFinding;
  outcome: FindingOutcome;
}

export async function reconcileRunWorkflow(options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const pageSize = options.pageSize ?? DEFAULT_RECONCILE_PAGE_SIZE;
  const runWorkflowId = workflowInfo().workflowId;
  const report: ReconcileReport = {
    startedAt: new Date(Date.now()).toISOString(),
    finishedAt: '',
    locksChecked: 0,
    pendingTransfersChecked: 0,
    resolvedBeforeRepair: 0,
    released: 0,
    needingAttention: 0,
    findings: [],
  };
  let phase = 'checking transfer locks';
  const showProgress = (): void => setCurrentDetails(progressDetails(phase, report));

  const announce = async (settled: Settled[]): Promise<void> => {
    if (settled.length === 0) return;
    const detectedAtMs = Date.now();
    const records = settled.map((s) => reconcilerFindingRecord({ ...s, detectedAtMs, runWorkflowId }));
    const published = new Set((await publishing.publishFindings(records)).published);
    for (const { finding, outcome } of settled) {
      const id = reconcilerFindingId(finding);
      report.findings.push({
        id,
        kind: finding.kind,
        transferId: finding.transferId,
        diskId: finding.diskId,
        outcome,
        needsAttention: needsAttention(outcome),
        summary: describeFinding(finding, outcome),
        publishedNow: published.has(id),
      });
      if (outcome === 'released') report.released += 1;
      if (needsAttention(outcome)) report.needingAttention += 1;
    }
  };

  showProgress();
  let marker: string | null = null;
  do {
    const page: LockInspection = await inspecting.inspectTransferLocks({ marker, limit: pageSize });
    const settled: Settled[] = [];
    for (const check of page.checks) {
      const finding = checkLockedDisk(check);
      if (finding === null) continue;
      const attempt =
        finding.repair === 'release_lock'
          ? await repairing.releaseLockOfEndedTransfer({ diskId: finding.diskId, transferId: finding.transferId })
          : null;
      const outcome = settleFinding(finding, attempt);
      if (outcome === null) report.resolvedBeforeRepair += 1;
      else settled.push({ finding, outcome });
    }
    // Page by page, so what this page released is published even if a later page fails the run.
    await announce(settled);
    report.locksChecked += page.checked ?? page.checks.length;
    marker = page.nextMarker;
    showProgress();
  } while (marker !== null);

  phase = 'checking pending transfers';
  showProgress();
  let pageToken: string | null = null;
  do {
    const page: PendingInspection = await inspecting.inspectPendingTransfers({ pageToken, limit: pageSize });
    const settled: Settled[] = [];
    for (const check of page.checks) {
      const finding = checkPendingTransfer(check);
      if (finding !== null) settled.push({ finding, outcome: settleFinding(finding, null) ?? 'reported' });
    }
    await announce(settled);
    report.pendingTransfersChecked += page.checked ?? page.checks.length;
    pageToken = page.nextPageToken;
    showProgress();
  } while (pageToken !== null);

  report.finishedAt = new Date(Date.now()).toISOString();
  phase = 'done';
  showProgress();
  return report;
}

/** The run's "current details" in the Temporal UI: where it is, and every finding so far. */
function progressDetails(phase: string, report: ReconcileReport): string {
  const head =
    `**${phase}**: ${report.locksChecked} transfer locks and ${report.pendingTransfersChecked} pending transfers checked; ` +
    `${report.released} locks released, ${report.needingAttention} findings need attention`;
  const lines = report.findings.map((f) => `- \`${f.kind}\` (${f.outcome}): ${f.summary}`);
  return [head, ...lines].join('\n');
}
