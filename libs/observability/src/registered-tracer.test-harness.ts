/**
 * For specs that need real spans in the active context: registers an SDK
 * tracer provider (with the AsyncLocalStorage context manager, as a process
 * with tracing on does) for the enclosing suite, and unregisters every global
 * afterwards so the next file starts with the API's no-ops again.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll } from 'vitest';

export function useRegisteredTracer(): void {
  let provider: NodeTracerProvider;
  beforeAll(() => {
    provider = new NodeTracerProvider();
    provider.register();
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
}
