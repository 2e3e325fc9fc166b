/**
 * The port the worker's publish activity and the gateway's audit trail write
 * through, and its KafkaJS adapter. Publishing throws on failure, at the first
 * one: callers retry the whole batch (outbox relays, Temporal's activity
 * retries), and CloudEvent ids are stable so a consumer drops what a retry
 * sent twice.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Logger, type LoggerService } from '@nestjs/common';
import { Partitioners, type Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import type { AppConfig } from '../../config/src/config';
import type { OutgoingRecord } from '../../contracts/src/events';
import { toBinaryModeMessage } from './cloud-event-record';
import { traceHeaders } from './record-trace';
import { createKafkaClient } from './kafka-client';

export interface EventPublisher {
  publish(records: readonly OutgoingRecord[]): Promise<void>;
}

/** Injection token for the EventPublisher; tests override this one provider. */
export const EVENT_PUBLISHER = 'EVENT_PUBLISHER';

export interface KafkaEventPublisherOptions {
  brokers: string[];
  clientId: string;
  logLevel?: AppConfig['logLevel'];
  logger?: LoggerService;
  /** How long the broker may take to replicate before it answers a send. Default 30 s. */
  ackTimeoutMs?: number;
  /** KafkaJS's retries of connecting and of reading metadata (default: KafkaJS's, 5 with backoff); a send itself is tried once. */
  retry?: RetryOptions;
}

export class KafkaEventPublisher implements EventPublisher {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly ackTimeoutMs: number;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(options: KafkaEventPublisherOptions) {
    const logger = options.logger ?? new Logger(KafkaEventPublisher.name);
    this.kafka = createKafkaClient({
      brokers: options.brokers,
      clientId: options.clientId,
      logger,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    // One request in flight and no retries inside KafkaJS. KafkaJS 2.2.4 retries a failed
    // batch remembering which brokers answered the first try; when a partition's leadership
    // moves to one of those (a broker killed mid-send), that partition's records are never
    // sent and the send still resolves (tulios/kafkajs#1303, #1798, open). The cluster's fault
    // test lost an accepted event that way. So a failed send rejects whole, and the caller (an
    // outbox relay, Temporal's activity retries) sends the batch again. KafkaJS's idempotent
    // producer refuses to run without those retries, so this one is not idempotent: a record a
    // failed send did write arrives again with the same CloudEvent id, which consumers drop.
    // The partitioner is named explicitly (the Java-compatible murmur2 one, KafkaJS's default
    // since 2.0) so a disk's events land where Java clients would put them, and KafkaJS does
    // not warn about the change of default.
    this.producer = this.kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      retry: { retries: 0 },
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) {
      throw new Error('KafkaEventPublisher is disconnected');
    }
    if (records.length === 0) return;
    await this.connect();
    const topics = [...new Set(records.map((r) => r.topic))];
    const span = trace.getTracer('evs-disk-transfer').startSpan(`send ${topics.join(',')}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topics.join(','),
        'messaging.batch.message_count': records.length,
      },
    });
    try {
      await context.with(trace.setSpan(context.active(), span), () => this.send(records));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    // A record carries the context it was made in, if it kept one (an outbox's), else the send span's:
    // consumers continue that trace.
    const traceContext = traceHeaders();
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      const messages = byTopic.get(record.topic) ?? [];
      messages.push(toBinaryModeMessage(record, record.trace ?? traceContext));
      byTopic.set(record.topic, messages);
    }
    await this.producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      acks: -1,
      timeout: this.ackTimeoutMs,
    });
  }

  /** Connects now rather than on the first publish (optional). */
  async connect(): Promise<void> {
    if (this.closed) {
      throw new Error('KafkaEventPublisher is disconnected');
    }
    if (!this.connecting) {
      this.connecting = this.producer.connect().catch((error: unknown) => {
        // Forget the failed attempt so the next publish tries again.
        this.connecting = null;
        throw error;
      });
    }
    await this.connecting;
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = null;
    if (!connecting) return;
    try {
      await connecting;
    } catch {
      return;
    }
    await this.producer.disconnect();
  }
}
