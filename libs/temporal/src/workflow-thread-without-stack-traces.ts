/**
 * Preloaded into the SDK's workflow threads (see workflow-stack-traces.ts):
 * makes the SDK's promise-hook installer a no-op, so the thread records no
 * stack per workflow promise and answers the stack-trace query with the SDK's
 * own "not enabled" error. If an SDK upgrade moves the installer, this says so
 * and leaves stack traces on rather than guessing.
 */
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';

interface PromiseHookInstaller {
  setPromiseHook?: () => void;
}

const handlers = globalHandlers as unknown as PromiseHookInstaller;
if (typeof handlers.setPromiseHook === 'function') {
  handlers.setPromiseHook = () => undefined;
} else {
  process.emitWarning('the Temporal SDK no longer has globalHandlers.setPromiseHook; workflow stack traces stay on');
}
