/**
 * The reconciler's Schedule, from the client side: kept in step with the
 * configuration by the worker at every start, and triggered on demand (npm
 * run reconcile, tests). Not for workflow code (it uses the Temporal client).
 */
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  type ScheduleExecutionActionResult,
  ScheduleOverlapPolicy,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RECONCILE_RUN_WORKFLOW_ID,
  RECONCILE_WORKFLOW_TYPE,
  RECONCILER_SCHEDULE_ID,
  type ReconcileOptions,
  type ReconcileReport,
} from './reconciler.definitions';
import { TRANSFER_TASK_QUEUE } from './transfer.definitions';

type ReconcileRunWorkflow = (options?: ReconcileOptions) => Promise<ReconcileReport>;

export interface ReconcilerScheduleSettings {
  intervalSeconds: number;
}

function scheduleParts(settings: ReconcilerScheduleSettings) {
  const spec: ScheduleSpec = { intervals: [{ every: `${settings.intervalSeconds}s` }] };
  const action: ScheduleOptionsStartWorkflowAction<ReconcileRunWorkflow> = {
    type: 'startWorkflow',
    workflowType: RECONCILE_WORKFLOW_TYPE,
    workflowId: RECONCILE_RUN_WORKFLOW_ID,
    taskQueue: TRANSFER_TASK_QUEUE,
    args: [],
    staticSummary: 'Reconcile the disk inventory with the transfer workflows',
  };
  const policies = {
    // Runs never overlap: a run still waiting out a broker outage makes the next ones wait their turn.
    overlap: ScheduleOverlapPolicy.SKIP,
    // After an outage of Temporal one run catches up, not every one missed.
    catchupWindow: `${Math.max(settings.intervalSeconds, 60)}s`,
    pauseOnFailure: false,
  };
  return { spec, action, policies };
}

/**
 * Creates the Schedule, or brings an existing one to these settings. A
 * pause (and its note) set by an operator is kept: stopping the reconciler
 * is an operator's call that a restart must not undo.
 */
export async function upsertReconcilerSchedule(
  client: Client,
  settings: ReconcilerScheduleSettings,
): Promise<'created' | 'updated'> {
  const parts = scheduleParts(settings);
  try {
    await client.schedule.create({ scheduleId: RECONCILER_SCHEDULE_ID, ...parts });
    return 'created';
  } catch (err) {
    // Another worker (or an earlier start) made it first.
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(RECONCILER_SCHEDULE_ID).update((previous: ScheduleDescription) => ({
    ...parts,
    state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
  }));
  return 'updated';
}

export interface TriggeredRun {
  workflowId: string;
  runId: string;
  report: ReconcileReport;
}

const runKey = (action: ScheduleExecutionActionResult) => `${action.workflow.workflowId}/${action.workflow.firstExecutionRunId}`;

function actionsOf(description: ScheduleDescription): ScheduleExecutionActionResult[] {
  return [...description.info.recentActions.map((a) => a.action), ...description.info.runningActions];
}

/**
 * Triggers a run and waits for its result. The run waited for is the first
 * the Schedule starts after the call began: the triggered one, or a
 * scheduled one that came first (either sees everything done before the
 * call). A trigger while a run is in progress waits for it to finish
 * (BUFFER_ONE) rather than being dropped.
 */
export async function triggerReconcileRun(client: Client, options: { timeoutMs?: number } = {}): Promise<TriggeredRun> {
  const handle = client.schedule.getHandle(RECONCILER_SCHEDULE_ID);
  const before = new Set(actionsOf(await handle.describe()).map(runKey));
  await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  for (;;) {
    const started = actionsOf(await handle.describe()).find((action) => !before.has(runKey(action)));
    if (started !== undefined) {
      const { workflowId, firstExecutionRunId: runId } = started.workflow;
      const report = (await client.workflow.getHandle(workflowId, runId).result()) as ReconcileReport;
      return { workflowId, runId, report };
    }
    if (Date.now() > deadline) throw new Error(`No reconcile run started within ${options.timeoutMs ?? 600_000} ms of the trigger`);
    await sleep(200);
  }
}
