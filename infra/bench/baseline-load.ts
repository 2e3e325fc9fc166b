/**
 * The baseline under the same load: each client, over and over, starts a
 * baseline workflow and waits on its one update, straight through the
 * Temporal client (no HTTP, no inventory, no Kafka). A cycle is complete
 * when the update answers; the window and warm-up are the transfer load's.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { BASELINE_TASK_QUEUE, BASELINE_WORKFLOW_TYPE, type BaselineShape, baselineDoneUpdate } from './baseline.definitions';
import { type LatencySummary, ratePerSecond, summarise } from './stats';
import type { LoadWindow } from './transfer-load';

export interface BaselineLoadResult {
  clients: number;
  shape: BaselineShape;
  measuredMs: number;
  completeWorkflows: number;
  /** Finished over the whole phase, warm-up included. */
  finishedWorkflows: number;
  workflowsPerSecond: number;
  /** Start → update answered. */
  cycleMs: LatencySummary;
  errors: Record<string, number>;
}

export async function runBaselineLoad(
  client: Client,
  clients: number,
  shape: BaselineShape,
  window: LoadWindow,
): Promise<BaselineLoadResult> {
  const cycles: number[] = [];
  const errors: Record<string, number> = {};
  let complete = 0;
  let finished = 0;
  const start = performance.now();
  const measureFrom = start + window.warmupMs;
  const measureUntil = measureFrom + window.durationMs;

  const loop = async (): Promise<void> => {
    while (performance.now() < measureUntil) {
      const started = performance.now();
      try {
        const handle = await client.workflow.start(BASELINE_WORKFLOW_TYPE, {
          taskQueue: BASELINE_TASK_QUEUE,
          workflowId: `evs-bench-baseline-${randomUUID()}`,
          args: [shape],
        });
        await handle.executeUpdate(baselineDoneUpdate);
      } catch (err) {
        const key = err instanceof Error ? err.name : 'Error';
        errors[key] = (errors[key] ?? 0) + 1;
        continue;
      }
      const ended = performance.now();
      finished++;
      if (started >= measureFrom && started < measureUntil) cycles.push(ended - started);
      if (ended >= measureFrom && ended < measureUntil) complete++;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return {
    clients,
    shape,
    measuredMs: window.durationMs,
    completeWorkflows: complete,
    finishedWorkflows: finished,
    workflowsPerSecond: ratePerSecond(complete, window.durationMs),
    cycleMs: summarise(cycles),
    errors,
  };
}
