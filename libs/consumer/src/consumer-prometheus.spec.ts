import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerConsumerMetrics } from './consumer-prometheus';
import type { ConsumerMetrics } from './event-processor';

const counts = (over: Partial<ConsumerMetrics['since_start']> = {}): ConsumerMetrics =>
  ({
    since_start: { processed: 7, applied: 5, ignored: 2, duplicates: 3, skipped: { unknown: 1, malformed: 0, failed: 4 }, ...over },
    stored: { events: 0, by_outcome: {}, dead_letters: {} },
  }) as unknown as ConsumerMetrics;

describe('registerConsumerMetrics', () => {
  it("reads this process's counts and the group's lag per partition at each scrape", async () => {
    const registry = new Registry();
    let metrics = counts();
    let lags: { topic: string; partition: number; lag: number }[] | null = [
      { topic: 'evs.transfer.lifecycle.v1', partition: 0, lag: 2 },
      { topic: 'evs.transfer.lifecycle.v1', partition: 1, lag: 3 },
    ];
    registerConsumerMetrics(registry, { groupId: 'evs-billing', metrics: async () => metrics, lagByPartition: async () => lags });
    let text = await registry.metrics();
    expect(text).toMatch(/^evs_consumer_processed_total\{outcome="applied"\} 5$/m);
    expect(text).toMatch(/^evs_consumer_processed_total\{outcome="ignored"\} 2$/m);
    expect(text).toMatch(/^evs_consumer_duplicates_total 3$/m);
    expect(text).toMatch(/^evs_consumer_skipped_total\{reason="failed"\} 4$/m);
    expect(text).toMatch(/^kafka_consumergroup_lag\{consumergroup="evs-billing",topic="evs.transfer.lifecycle.v1",partition="1"\} 3$/m);
    expect(text).toMatch(/^kafka_consumergroup_lag_sum\{consumergroup="evs-billing",topic="evs.transfer.lifecycle.v1"\} 5$/m);

    metrics = counts({ applied: 6 });
    lags = null;
    text = await registry.metrics();
    expect(text).toMatch(/^evs_consumer_processed_total\{outcome="applied"\} 6$/m);
    // The broker not answering: no lag series rather than a stale or made-up one.
    expect(text).not.toMatch(/^kafka_consumergroup_lag\{/m);
  });
});
