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
import * as path from 'node:path';
import workerThreads from 'node:worker_threads';

/** The SDK's workflow thread script; other threads (none today) are left alone. */
const SDK_WORKFLOW_THREAD = path.join('workflow', 'workflow-worker-thread.js');

/** Compiled next to this file; only the built worker (dist/) starts workflow threads this way. */
const THREAD_PRELOAD = path.join(__dirname, 'workflow-thread-without-stack-traces.js');

/**
 * A thread given its own execArgv no longer inherits the process's flags, and refuses the
 * process-wide ones (--max-old-space-size, which the worker runs with): keep only the flags a
 * thread takes that the worker is started with.
 */
const THREAD_FLAGS = new Set(['--enable-source-maps']);

function threadFlagsOfThisProcess(): string[] {
  return process.execArgv.filter((flag) => THREAD_FLAGS.has(flag));
}

const WRAPPED = Symbol.for('evs.temporal.workflowThreadsWithoutStackTraces');

/**
 * Called before Worker.create when the stack-trace query is not wanted: the workflow threads
 * the SDK starts from then on preload the switch. Idempotent.
 */
export function runWorkflowThreadsWithoutStackTraces(): void {
  const threads = workerThreads as typeof workerThreads & { [WRAPPED]?: true };
  if (threads[WRAPPED]) return;
  const SdkVisibleWorker = threads.Worker;
  class WorkerPreloadingTheSwitch extends SdkVisibleWorker {
    constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
      const isWorkflowThread = typeof filename === 'string' && filename.endsWith(SDK_WORKFLOW_THREAD);
      super(
        filename,
        isWorkflowThread ? { ...options, execArgv: [...(options.execArgv ?? threadFlagsOfThisProcess()), '--require', THREAD_PRELOAD] } : options,
      );
    }
  }
  // The SDK reads `Worker` off the module each time it starts a thread.
  threads.Worker = WorkerPreloadingTheSwitch;
  threads[WRAPPED] = true;
}
