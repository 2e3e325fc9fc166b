/**
 * Counts what a publisher sends: each event by topic and type once Kafka has
 * acknowledged it, each record of a failed publish, and how long publishes
 * take. The transfer lifecycle counters are the same count by event
 * (created, accepted, deleted, expired, create_rejected, accept_failed,
 * locked_out). A publish retried after Kafka took it but the answer was
 * lost counts twice, as it is sent twice (consumers drop the second by id).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { OutgoingRecord } from '../../contracts/src/events';
import type { EventPublisher } from './event-publisher';

/** "com.huaweicloud.evs.transfer.accepted.v1" -> "accepted"; null for an event that is not a transfer's. */
export function transferEventOf(type: string): string | null {
  return /^com\.huaweicloud\.evs\.transfer\.([a-z_]+)\.v\d+$/.exec(type)?.[1] ?? null;
}

export class MeteredEventPublisher implements EventPublisher {
  private readonly published: Counter<'topic' | 'type'>;
  private readonly transfers: Counter<'event'>;
  private readonly failed: Counter<'topic'>;
  private readonly duration: Histogram;

  constructor(
    private readonly inner: EventPublisher & { disconnect?: () => Promise<void> },
    registry: Registry,
  ) {
    this.published = new Counter({
      name: 'evs_events_published_total',
      help: 'Events Kafka acknowledged, by topic and CloudEvents type.',
      labelNames: ['topic', 'type'],
      registers: [registry],
    });
    this.transfers = new Counter({
      name: 'evs_transfer_events_total',
      help: 'Transfer lifecycle and security events published, by event (created, accepted, deleted, expired, create_rejected, accept_failed, locked_out, ...).',
      labelNames: ['event'],
      registers: [registry],
    });
    this.failed = new Counter({
      name: 'evs_event_publish_failures_total',
      help: 'Records of publishes that failed (each is retried: by Temporal for lifecycle events, by the outbox relay for audit records).',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'evs_event_publish_duration_seconds',
      help: 'How long a publish took until Kafka acknowledged it (acks=all) or it failed.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    const stop = this.duration.startTimer();
    try {
      await this.inner.publish(records);
    } catch (error) {
      for (const record of records) this.failed.inc({ topic: record.topic });
      throw error;
    } finally {
      stop();
    }
    for (const { topic, event } of records) {
      this.published.inc({ topic, type: event.type });
      const transferEvent = transferEventOf(event.type);
      if (transferEvent !== null) this.transfers.inc({ event: transferEvent });
    }
  }

  async disconnect(): Promise<void> {
    await this.inner.disconnect?.();
  }
}
