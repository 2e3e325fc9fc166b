/**
 * A workflow interceptor (it runs in the workflow sandbox) that keeps the
 * trace context of a workflow that waits from costing every other workflow.
 *
 * Temporal's tracing interceptors give each workflow a context manager with
 * an AsyncLocalStorage of its own. On Node.js 20 every enabled
 * AsyncLocalStorage of a thread does work for each promise any code of that
 * thread creates (it writes its slot on the new promise), so a worker whose
 * cache holds 250 pending transfers paid 250 writes for every promise of every
 * workflow step: its CPU per transfer grew with the transfers waiting for an
 * accept (docs/performance.md, "Pending transfers made every step dearer").
 *
 * The storage is enabled only while an activation of its own workflow runs:
 * from the start of the activation to its conclusion, which is when the
 * workflow's code and its promise callbacks run. In between it is disabled.
 * The contexts its promises already carry stay on them, and a callback that
 * runs after the storage is enabled again reads them as before; only promises
 * created by other workflows meanwhile lack its slot, and they never needed it.
 * Nothing here reaches commands or history: replay is unaffected.
 */
import { context } from '@opentelemetry/api';
import {
  type ActivateInput,
  AsyncLocalStorage,
  type ConcludeActivationInput,
  type ConcludeActivationOutput,
  type Next,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
} from '@temporalio/workflow';

/** A store no context ever holds: running with it enables the storage and changes nothing. */
const ENABLE = Symbol('enable trace context storage');

/** The workflow's own trace context storage, if tracing interceptors registered a context manager. */
function traceContextStorage(): InstanceType<typeof AsyncLocalStorage<unknown>> | undefined {
  const api = context as unknown as { _getContextManager?: () => unknown };
  const manager = api._getContextManager?.() as { storage?: unknown } | undefined;
  return manager?.storage instanceof AsyncLocalStorage ? manager.storage : undefined;
}

class IdleTraceContext implements WorkflowInternalsInterceptor {
  activate(input: ActivateInput, next: Next<WorkflowInternalsInterceptor, 'activate'>): void {
    // run() enables a disabled storage; the current resource's context is restored when it returns.
    traceContextStorage()?.run(ENABLE, () => undefined);
    next(input);
  }

  concludeActivation(
    input: ConcludeActivationInput,
    next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>,
  ): ConcludeActivationOutput {
    const concluded = next(input);
    traceContextStorage()?.disable();
    return concluded;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ internals: [new IdleTraceContext()] });
