/**
 * The worker settings the transfer worker and the benchmark's baseline worker share, read from
 * the same configuration, so the two differ only in what their workflows do.
 */
import type { WorkerOptions } from '@temporalio/worker';
import type { AppConfig } from '../../config/src/config';

export type WorkerTuning = Required<
  Pick<
    WorkerOptions,
    'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentLocalActivityExecutions'
  >
>;

export function workerTuning(worker: AppConfig['worker']): WorkerTuning {
  return {
    maxCachedWorkflows: worker.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: worker.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: worker.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: worker.maxConcurrentActivities,
  };
}
