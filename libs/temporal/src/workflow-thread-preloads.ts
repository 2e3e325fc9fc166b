/**
 * Switches that have to be made inside the SDK's workflow threads, before
 * they load any workflow: each is a module those threads are started with
 * preloaded (`--require`). The worker asks for them before Worker.create.
 * Only the built worker (dist/) starts workflow threads this way: the
 * preloads are the compiled files next to this one.
 */
import * as path from 'node:path';
import workerThreads from 'node:worker_threads';

/** The SDK's workflow thread script; other threads (none today) are left alone. */
const SDK_WORKFLOW_THREAD = path.join('workflow', 'workflow-worker-thread.js');

/**
 * A thread given its own execArgv no longer inherits the process's flags, and refuses the
 * process-wide ones (--max-old-space-size, which the worker runs with): keep only the flags a
 * thread takes that the worker is started with.
 */
const THREAD_FLAGS = new Set(['--enable-source-maps']);

function threadFlagsOfThisProcess(): string[] {
  return process.execArgv.filter((flag) => THREAD_FLAGS.has(flag));
}

const PRELOADS = Symbol.for('evs.temporal.workflowThreadPreloads');

/**
 * The workflow threads the SDK starts from now on preload `moduleName` (a
 * module of this folder, without its extension). Idempotent.
 */
export function preloadIntoWorkflowThreads(moduleName: string): void {
  const threads = workerThreads as typeof workerThreads & { [PRELOADS]?: Set<string> };
  if (threads[PRELOADS] === undefined) {
    const preloads = new Set<string>();
    const SdkVisibleWorker = threads.Worker;
    class WorkerWithPreloads extends SdkVisibleWorker {
      constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
        const isWorkflowThread = typeof filename === 'string' && filename.endsWith(SDK_WORKFLOW_THREAD);
        const required = [...preloads].flatMap((file) => ['--require', file]);
        super(filename, isWorkflowThread ? { ...options, execArgv: [...(options.execArgv ?? threadFlagsOfThisProcess()), ...required] } : options);
      }
    }
    // The SDK reads `Worker` off the module each time it starts a thread.
    threads.Worker = WorkerWithPreloads;
    threads[PRELOADS] = preloads;
  }
  threads[PRELOADS].add(path.join(__dirname, `${moduleName}.js`));
}
