/**
 * The benchmark's baseline: a workflow with nothing of ours in it, on its own
 * task queue of the same Temporal server. It runs as many activities (each
 * doing nothing) as a transfer does, of the same kinds, and answers one
 * update once they are done, so its rate is what Temporal alone can give
 * this shape of workflow on this machine.
 */
import { defineUpdate } from '@temporalio/workflow';

export const BASELINE_TASK_QUEUE = 'evs-bench-baseline';
export const BASELINE_WORKFLOW_TYPE = 'benchBaselineWorkflow';

export interface BaselineShape {
  /** Activities through the task queue, like the transfer's inventory calls. */
  activities: number;
  /** Local activities, run inside the workflow task, like the transfer's local steps. */
  localActivities: number;
}

/** Answered once every activity has run; the number that ran. */
export const baselineDoneUpdate = defineUpdate<number>('done');
