/**
 * The gateway's own Prometheus metrics: requests refused, by route and
 * catalogue code (authentication failures, lock-outs, every EVS refusal),
 * and the pending transfers as the read model has them, read at each scrape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PendingSummary } from '../../../../libs/read-model/src/transfer-read-model';
import { routeTemplate } from '../../../../libs/observability/src/http-metrics';
import { answeredErrorCode } from '../http/answered-error';

/** Express middleware: counts each response that carried a catalogue error. */
export function refusalsMiddleware(registry: Registry) {
  const refused = new Counter({
    name: 'evs_api_refusals_total',
    help: 'Requests answered with an error, by route template and EVS error code (EVS.5401: not authenticated, 429 codes: locked out, ...).',
    labelNames: ['http_route', 'code'],
    registers: [registry],
  });
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    res.once('finish', () => {
      const code = answeredErrorCode(res);
      if (code !== undefined) refused.inc({ http_route: routeTemplate(req), code });
    });
    next();
  };
}

/**
 * Gauges of the pending transfers. Every gateway reports the same numbers
 * (they share the read model): aggregate them with max, not sum.
 */
export function registerPendingTransferGauges(registry: Registry, summary: () => Promise<PendingSummary>, now: () => number = Date.now): void {
  // One query per scrape, shared by the three gauges.
  let current: { at: number; value: Promise<PendingSummary> } | null = null;
  const read = (): Promise<PendingSummary> => {
    const at = now();
    if (current === null || at - current.at > 1000) current = { at, value: summary() };
    return current.value;
  };
  new Gauge({
    name: 'evs_transfers_pending',
    help: 'Transfers pending (waiting for an accept, a delete or their expiry), in every project.',
    registers: [registry],
    async collect() {
      this.set((await read()).count);
    },
  });
  new Gauge({
    name: 'evs_transfer_oldest_pending_age_seconds',
    help: 'Age of the oldest pending transfer (0 when none is pending).',
    registers: [registry],
    async collect() {
      const { oldestCreatedAtMs } = await read();
      this.set(oldestCreatedAtMs === null ? 0 : Math.max(0, (now() - oldestCreatedAtMs) / 1000));
    },
  });
  new Gauge({
    name: 'evs_transfer_pending_past_expiry_seconds',
    help: 'How long ago the earliest expiry among pending transfers passed (0 when none is overdue): above a few seconds, expiry is not firing.',
    registers: [registry],
    async collect() {
      const { earliestExpiresAtMs } = await read();
      this.set(earliestExpiresAtMs === null ? 0 : Math.max(0, (now() - earliestExpiresAtMs) / 1000));
    },
  });
}

/** What the gauges need of the API audit outbox. */
