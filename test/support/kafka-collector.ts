/**
 * Collects the CloudEvents that reach some topics after the collector was
 * created (or, with `from: 'beginning'`, all still on them), for tests to
 * wait on:
 *
 *   const events = await KafkaCollector.start([TOPICS.lifecycle]);
 *   try {
 *     ... act ...
 *     const created = await events.waitFor((e) => e.type === CLOUD_EVENT_TYPES.TransferCreated
 *       && e.subject === `transfers/${id}`);
 *   } finally {
 *     await events.stop();
 *   }
 *
 * Each collector is a fresh consumer group. "After creation" is exact: the
 * topics' end offsets are read first, the consumer seeks to them once it has
 * joined, and anything older is dropped, so nothing produced after start()
 * is missed however long the group join takes.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import type { CloudEvent } from '../../libs/contracts/src/events';
import { messageKey, parseBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';
import { testStack } from './stack';

export interface CollectedEvent<T = Record<string, unknown>> extends CloudEvent<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
}

export interface KafkaCollectorOptions {
  brokers?: string[];
  /** Give up on the group join after this long (default 30 s). */
  joinTimeoutMs?: number;
  /**
   * 'end' (default): only what is produced after start(). 'beginning':
   * everything still on the topics, e.g. to check after a broker outage
   * what reached the broker while no collector could run.
   */
  from?: 'end' | 'beginning';
}

type Predicate = (event: CollectedEvent) => boolean;

interface Waiter {
  predicate: Predicate;
  resolve: (event: CollectedEvent) => void;
}

export class KafkaCollector {
  private readonly collected: CollectedEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly failures: Error[] = [];

  private constructor(
    private readonly consumer: Consumer,
    private readonly startOffsets: Map<string, bigint>,
  ) {}

  static async start(topics: readonly string[], options: KafkaCollectorOptions = {}): Promise<KafkaCollector> {
    const brokers = options.brokers ?? testStack().kafkaBrokers;
    const kafka = createKafkaClient({
      brokers,
      clientId: 'evs-test-collector',
      logger: new Logger('KafkaCollector'),
      logLevel: 'error',
    });

    const startOffsets = new Map<string, bigint>();
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) {
        for (const { partition, offset, low } of await admin.fetchTopicOffsets(topic)) {
          startOffsets.set(`${topic}/${partition}`, BigInt(options.from === 'beginning' ? low : offset));
        }
      }
    } finally {
      await admin.disconnect();
    }

    const consumer = kafka.consumer({
      groupId: `evs-test-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    const collector = new KafkaCollector(consumer, startOffsets);
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, () => resolve());
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: false });
      await consumer.run({ eachMessage: (payload) => Promise.resolve(collector.accept(payload)) });
      await withTimeout(joined, options.joinTimeoutMs ?? 30_000, 'consumer group join');
      for (const [key, offset] of startOffsets) {
        const slash = key.lastIndexOf('/');
        consumer.seek({ topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset: offset.toString() });
      }
    } catch (error) {
      await consumer.disconnect();
      throw error;
    }
    return collector;
  }

  /** Everything collected so far, in arrival order. */
  get events(): readonly CollectedEvent[] {
    return this.collected;
  }

  /** Resolves with the first collected event (past or future) matching predicate. */
  waitFor<T = Record<string, unknown>>(predicate: Predicate, timeoutMs = 30_000): Promise<CollectedEvent<T>> {
    const found = this.collected.find(predicate);
    if (found) return Promise.resolve(found as CollectedEvent<T>);
    return new Promise<CollectedEvent<T>>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(event as CollectedEvent<T>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const problems = this.failures.length > 0 ? `; unparsable messages: ${this.failures.map((e) => e.message).join('; ')}` : '';
        reject(
          new Error(
            `no matching event within ${timeoutMs} ms; collected ${this.collected.length}: ` +
              `${this.collected.map((e) => `${e.type} ${e.subject}`).join(', ')}${problems}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private accept({ topic, partition, message }: EachMessagePayload): void {
    const start = this.startOffsets.get(`${topic}/${partition}`) ?? 0n;
    const position = `${topic}/${partition}/${message.offset}`;
    if (BigInt(message.offset) < start || this.seen.has(position)) return;
    this.seen.add(position);
    let event: CollectedEvent;
    try {
      event = {
        ...parseBinaryModeMessage<Record<string, unknown>>(message),
        topic,
        partition,
        offset: message.offset,
        key: messageKey(message),
      };
    } catch (error) {
      this.failures.push(error as Error);
      return;
    }
    this.collected.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(event)) waiter.resolve(event);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
