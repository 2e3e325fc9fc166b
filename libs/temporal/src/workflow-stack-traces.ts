/**
 * Lets a worker run its workflows without Temporal's per-promise stack traces.
 *
 * To answer the stack-trace query (the Web UI's "Stack Trace" tab, `temporal
 * workflow stack`), the TypeScript SDK installs a promise hook in its workflow
 * thread that, for every promise a workflow creates, captures a stack, maps
 * each frame through the bundle's source map and keeps the result until the
 * promise settles. A transfer's workflow creates some hundreds of promises:
 * at 5 transfers/s the worker spent 103 ms of CPU per transfer with the stacks
 * and 80 without (docs/performance.md). The SDK has no option for it: it records the
 * stacks whenever Node offers the hook, and answers the query with "stack
 * traces are not enabled on this worker" when it does not.
 *
 * The hook is installed inside the SDK's workflow thread, so the switch has
 * to be made there: the SDK's workflow threads are started with
 * `workflow-thread-without-stack-traces` preloaded, which turns the SDK's
 * hook installer into a no-op before the thread loads any workflow. Nothing a
 * workflow decides depends on the stacks; histories replay the same either way.
 */
import { preloadIntoWorkflowThreads } from './workflow-thread-preloads';

/**
 * Called before Worker.create when the stack-trace query is not wanted: the workflow threads
 * the SDK starts from then on preload the switch. Idempotent.
 */
export function runWorkflowThreadsWithoutStackTraces(): void {
  preloadIntoWorkflowThreads('workflow-thread-without-stack-traces');
}
