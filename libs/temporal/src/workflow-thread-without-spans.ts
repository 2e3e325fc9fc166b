/**
 * Preloaded into the SDK's workflow threads when the worker exports no traces
 * (see workflow-tracing.ts): the tracer Temporal's workflow interceptors make
 * in the sandbox samples nothing. That tracer takes its sampler from the
 * environment as OpenTelemetry's browser build reads it, the sandbox's global
 * object, so the switch is a global the SDK's sandbox is given with its
 * others. If an SDK upgrade moves where those are given, this says so and
 * leaves the spans as they were rather than guessing.
 */
import * as vmShared from '@temporalio/worker/lib/workflow/vm-shared';

interface GlobalsInjector {
  injectGlobals?: (context: object) => void;
}

const shared = vmShared as unknown as GlobalsInjector;
const injectSdkGlobals = shared.injectGlobals;
if (typeof injectSdkGlobals === 'function') {
  shared.injectGlobals = (context: object): void => {
    injectSdkGlobals(context);
    Object.defineProperty(context, 'OTEL_TRACES_SAMPLER', { value: 'always_off', writable: false, enumerable: true, configurable: false });
  };
} else {
  process.emitWarning('the Temporal SDK no longer has vm-shared injectGlobals; workflow spans stay recorded');
}
