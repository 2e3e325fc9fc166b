/**
 * One Prometheus registry per process (not prom-client's global one: the HTTP
 * tests build several apps in one process), holding the Node runtime and
 * process metrics under prom-client's standard names, which stock Node.js
 * dashboards query, and whatever the process adds.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export class ProcessMetrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition for a scrape, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
