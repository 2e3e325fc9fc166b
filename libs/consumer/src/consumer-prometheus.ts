/**
 * A consumer's own numbers as Prometheus metrics, read at each scrape so they
 * stay fresh when nothing flows: what this process did since it started
 * (processed, duplicates skipped, records skipped by reason), and the group's
 * lag per topic and partition under kafka_exporter's names, which operators'
 * stock Kafka dashboards and alerts query.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConsumerMetrics } from './event-processor';
import type { PartitionLag } from './kafka-consumer';

export interface ConsumerMetricsSource {
  metrics(): Promise<ConsumerMetrics>;
  lagByPartition(): Promise<PartitionLag[] | null>;
  groupId: string;
}

export function registerConsumerMetrics(registry: Registry, source: ConsumerMetricsSource): void {
  const sinceStart = async () => (await source.metrics()).since_start;
  new Counter({
    name: 'evs_consumer_processed_total',
    help: 'Events whose effect this process committed for the first time (applied or ignored as of no concern).',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const counts = await sinceStart();
      this.reset();
      this.inc({ outcome: 'applied' }, counts.applied);
      this.inc({ outcome: 'ignored' }, counts.ignored);
    },
  });
  new Counter({
    name: 'evs_consumer_duplicates_total',
    help: 'Records this process found already handled (a redelivery or a second copy), and skipped.',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await sinceStart()).duplicates);
    },
  });
  new Counter({
    name: 'evs_consumer_skipped_total',
    help: 'Records this process skipped and kept as dead letters, by reason (unknown type, malformed, failed).',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const { skipped } = await sinceStart();
      this.reset();
      for (const [reason, count] of Object.entries(skipped)) this.inc({ reason }, count);
    },
  });
  const lags = () => source.lagByPartition();
  new Gauge({
    name: 'kafka_consumergroup_lag',
    help: "Records on a partition the consumer group has not committed yet (absent while the broker does not answer).",
    labelNames: ['consumergroup', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { topic, partition, lag } of (await lags()) ?? []) this.set({ consumergroup: source.groupId, topic, partition: String(partition) }, lag);
    },
  });
  new Gauge({
    name: 'kafka_consumergroup_lag_sum',
    help: 'The consumer group lag over all partitions of a topic.',
    labelNames: ['consumergroup', 'topic'],
    registers: [registry],
    async collect() {
      this.reset();
      const byTopic = new Map<string, number>();
      for (const { topic, lag } of (await lags()) ?? []) byTopic.set(topic, (byTopic.get(topic) ?? 0) + lag);
      for (const [topic, lag] of byTopic) this.set({ consumergroup: source.groupId, topic }, lag);
    },
  });
}
