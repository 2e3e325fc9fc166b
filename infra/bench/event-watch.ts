/**
 * Watches the lifecycle topic as a consumer would, from the moment it has
 * joined, and notes when each transfer's event of a type was first
 * readable (performance.now(), the clock the clients time their calls with).
 * Only the CloudEvent headers are read: the watcher must keep up with the
 * stack, not compete with it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { Consumer, IHeaders } from 'kafkajs';
import { TOPICS } from '../../libs/contracts/src/events';
import { CLOUD_EVENT_HEADERS } from '../../libs/kafka/src/cloud-event-record';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';

const SUBJECT_PREFIX = 'transfers/';

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export class EventWatch {
  /** type → transfer id → when first readable. */
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[]): Promise<EventWatch> {
    const kafka = createKafkaClient({ brokers, clientId: 'evs-bench-watch', logger: new Logger('EventWatch'), logLevel: 'error' });
    const consumer = kafka.consumer({
      groupId: `evs-bench-${randomUUID()}`,
      sessionTimeout: 30_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
    });
    const watch = new EventWatch(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    // A new group starts at the end: only what happens during the benchmark.
    await consumer.subscribe({ topics: [TOPICS.lifecycle], fromBeginning: false });
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const at = performance.now();
        for (const message of batch.messages) watch.note(message.headers, at);
        watch.notify();
      },
    });
    await joined;
    return watch;
  }

  private note(headers: IHeaders | undefined, at: number): void {
    const type = header(headers, CLOUD_EVENT_HEADERS.type);
    const subject = header(headers, CLOUD_EVENT_HEADERS.subject);
    if (type === undefined || subject === undefined || !subject.startsWith(SUBJECT_PREFIX)) return;
    let byTransfer = this.seen.get(type);
    if (byTransfer === undefined) this.seen.set(type, (byTransfer = new Map<string, number>()));
    const transferId = subject.slice(SUBJECT_PREFIX.length);
    if (!byTransfer.has(transferId)) byTransfer.set(transferId, at);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** When the transfer's event of this type was first readable, or undefined. */
  seenAt(type: string, transferId: string): number | undefined {
    return this.seen.get(type)?.get(transferId);
  }

  /**
   * Of transfers answered at the instants given: how many had their event of
   * this type readable inside [from, until), how many never had it, and, for
   * those answered inside the window, the lag from answer to event (0 when
   * the event was readable first).
   */
  tally(type: string, answeredAt: ReadonlyMap<string, number>, from: number, until: number): { complete: number; missing: number; lagsMs: number[] } {
    let complete = 0;
    let missing = 0;
    const lagsMs: number[] = [];
    for (const [id, answered] of answeredAt) {
      const seenAt = this.seenAt(type, id);
      if (seenAt === undefined) {
        missing++;
        continue;
      }
      if (seenAt >= from && seenAt < until) complete++;
      if (answered >= from && answered < until) lagsMs.push(Math.max(0, seenAt - answered));
    }
    return { complete, missing, lagsMs };
  }

  /** Resolves once every transfer id has its event of this type, or at the deadline (performance.now() clock). */
  async waitForAll(type: string, transferIds: Iterable<string>, deadline: number): Promise<void> {
    const ids = [...transferIds];
    const done = () => ids.every((id) => this.seenAt(type, id) !== undefined);
    while (!done() && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, 200);
        function finish() {
          clearTimeout(timer);
          listeners.delete(finish);
          resolve();
        }
        const listeners = this.listeners;
        listeners.add(finish);
      });
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
