/**
 * An outbox seen from Prometheus: rows not yet on Kafka, and how long the
 * oldest has waited. A growing depth or age means Kafka is away or the relay
 * is stuck. Replicas sharing one outbox (PostgreSQL) report the same rows,
 * so aggregate with max.
 */
import { Gauge, type Registry } from 'prom-client';

export interface OutboxGaugeSource {
  count(): Promise<number>;
  oldest(limit: number): Promise<{ record: { event: { time: string } } }[]>;
}

/** `outbox` labels the series: api-audit (gateway), transfer-events (worker). */
export function registerOutboxGauges(registry: Registry, outboxName: string, outbox: OutboxGaugeSource, now: () => number = Date.now): void {
  new Gauge({
    name: 'evs_outbox_depth',
    help: 'Records in the outbox not yet acknowledged by Kafka.',
    labelNames: ['outbox'],
    registers: [registry],
    async collect() {
      this.set({ outbox: outboxName }, await outbox.count());
    },
  });
  new Gauge({
    name: 'evs_outbox_oldest_age_seconds',
    help: 'How long the oldest record in the outbox has waited for Kafka (0 when it is empty).',
    labelNames: ['outbox'],
    registers: [registry],
    async collect() {
      const [row] = await outbox.oldest(1);
      const at = row === undefined ? NaN : Date.parse(row.record.event.time);
      this.set({ outbox: outboxName }, Number.isNaN(at) ? 0 : Math.max(0, (now() - at) / 1000));
    },
  });
}
