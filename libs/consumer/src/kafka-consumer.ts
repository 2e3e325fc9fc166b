/**
 * The KafkaJS side of a consumer with exactly-once effect: records reach
 * ExactlyOnceProcessor a chunk at a time, and the group's offset moves past
 * a chunk only once its database transaction has committed (autoCommit off,
 * offsets resolved and committed by hand). A process killed in between
 * gets those records again and the processor drops them as duplicates.
 *
 * A new group starts at the beginning of each topic, so a consumer started
 * with an empty database and a fresh group id rebuilds everything the topics
 * still hold.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import type { Admin, Consumer, EachBatchPayload, IMemberAssignment, Kafka } from 'kafkajs';
import type { AppConfig } from '../../config/src/config';
import { createKafkaClient } from '../../kafka/src/kafka-client';
import type { ConsumedRecord, Outcome } from './event-processor';

export interface RecordProcessor {
  /** Commits every record's effect before it returns, or throws and commits none. */
  processAll(records: readonly ConsumedRecord[]): Promise<Outcome[]>;
}

export interface KafkaConsumerOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: readonly string[];
  logLevel?: AppConfig['logLevel'];
  logger?: LoggerService;
  /** Records per database transaction (default 500): bounds the time between heartbeats. */
  chunkSize?: number;
}

/**
 * starting: connecting or joining; joined: consuming; rebalancing: the
 * group is reassigning partitions; retrying: KafkaJS gave up and we start
 * over after a pause; stopped: shut down.
 */
export type ConsumerState = 'starting' | 'joined' | 'rebalancing' | 'retrying' | 'stopped';

export interface ConsumerStatus {
  state: ConsumerState;
  group_id: string;
  topics: string[];
  /** Partitions of each topic this process consumes. */
  assignment: IMemberAssignment;
}

/** A partition's records not yet committed by the group. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

const LAG_TIMEOUT_MS = 2000;
const LAG_CACHE_MS = 1000;
const MAX_RETRY_DELAY_MS = 10_000;

export class KafkaExactlyOnceConsumer {
  private readonly logger: LoggerService;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly chunkSize: number;
  private state: ConsumerState = 'starting';
  private assignment: IMemberAssignment = {};
  private readonly admin: Admin;
  private adminConnected: Promise<void> | null = null;
  private lagCache: { at: number; value: Promise<PartitionLag[] | null> } | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private restartRequested = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly options: KafkaConsumerOptions,
    private readonly processor: RecordProcessor,
  ) {
    this.logger = options.logger ?? new Logger(KafkaExactlyOnceConsumer.name);
    this.chunkSize = options.chunkSize ?? 500;
    this.kafka = createKafkaClient({
      brokers: options.brokers,
      clientId: options.clientId,
      logger: this.logger,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    });
    this.admin = this.kafka.admin();
    this.consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // A member killed without leaving holds its partitions until its
      // session lapses: keep that short, so a restarted process resumes soon.
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 500,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.assignment = payload.memberAssignment;
      this.state = 'joined';
      this.logger.log(`joined group ${options.groupId}: ${JSON.stringify(payload.memberAssignment)}`);
    });
    this.consumer.on(REBALANCING, () => {
      if (this.state === 'joined') this.state = 'rebalancing';
    });
    this.consumer.on(CRASH, ({ payload }) => {
      // KafkaJS restarts by itself when it can (restart: true); when it
      // cannot, keepRunning() connects afresh after a pause.
      this.logger.error(`consumer crashed (${payload.restart ? 'KafkaJS restarts it' : 'starting over'}): ${payload.error.message}`);
      this.state = payload.restart ? 'starting' : 'retrying';
      if (!payload.restart) {
        this.restartRequested = true;
        this.wake?.();
      }
    });
    this.consumer.on(STOP, () => {
      if (this.stopping) this.state = 'stopped';
    });
  }

  /** Starts consuming in the background; a broker that is away is retried, never fatal. */
  start(): void {
    this.running ??= this.keepRunning();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // disconnect() lets the batch in hand finish (its transaction commits
    // and its offsets are committed), then leaves the group; it also ends a
    // connection attempt under way. Once more after the loop has ended, in
    // case an attempt succeeded in between.
    const disconnect = () =>
      this.consumer.disconnect().catch((error: unknown) => {
        this.logger.warn(`disconnect: ${String(error)}`);
      });
    await disconnect();
    await this.running;
    await disconnect();
    await this.admin.disconnect().catch(() => undefined);
    this.state = 'stopped';
  }

  status(): ConsumerStatus {
    return { state: this.state, group_id: this.options.groupId, topics: [...this.options.topics], assignment: this.assignment };
  }

  /**
   * Records on the topics that the group has not committed yet, over all
   * partitions (what kafka-consumer-groups.sh calls LAG); null when the
   * broker does not answer in time.
   */
  async lag(): Promise<number | null> {
    const partitions = await this.lagByPartition();
    return partitions === null ? null : partitions.reduce((sum, p) => sum + p.lag, 0);
  }

  /** The same, partition by partition (each topic's partitions, whether this replica holds them or not). */
  lagByPartition(): Promise<PartitionLag[] | null> {
    const now = Date.now();
    if (this.lagCache && now - this.lagCache.at < LAG_CACHE_MS) return this.lagCache.value;
    const value = withTimeout(this.measureLag(), LAG_TIMEOUT_MS).catch(() => null);
    this.lagCache = { at: now, value };
    return value;
  }

  private async measureLag(): Promise<PartitionLag[]> {
    this.adminConnected ??= this.admin.connect().catch((error: unknown) => {
      // Forget the failed attempt so the next health check tries again.
      this.adminConnected = null;
      throw error;
    });
    await this.adminConnected;
    const topics = [...this.options.topics];
    const committed = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics });
    const lags: PartitionLag[] = [];
    for (const topic of topics) {
      const mine = new Map<number, bigint>();
      for (const p of committed.find((c) => c.topic === topic)?.partitions ?? []) mine.set(p.partition, BigInt(p.offset));
      for (const { partition, high, low } of await this.admin.fetchTopicOffsets(topic)) {
        const position = mine.get(partition) ?? -1n;
        // -1: nothing committed yet, so the group starts from the low mark.
        const from = position < 0n ? BigInt(low) : position;
        lags.push({ topic, partition, lag: BigInt(high) > from ? Number(BigInt(high) - from) : 0 });
      }
    }
    return lags;
  }

  private async keepRunning(): Promise<void> {
    let delayMs = 500;
    while (!this.stopping) {
      try {
        this.state = 'starting';
        await this.consumer.connect();
        await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
        await this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.eachBatch(payload),
        });
        delayMs = 500;
        // Consuming now; wait until stop() or a crash KafkaJS does not recover from.
        if (!this.restartRequested && !this.stopping) await new Promise<void>((resolve) => (this.wake = resolve));
        this.restartRequested = false;
        if (this.stopping) return;
      } catch (error) {
        if (this.stopping) return;
        this.state = 'retrying';
        this.logger.warn(`cannot consume yet (${error instanceof Error ? error.message : String(error)}); retrying in ${delayMs} ms`);
      }
      await this.consumer.disconnect().catch(() => undefined);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    for (let start = 0; start < messages.length; start += this.chunkSize) {
      // Stopping, or the partition was taken away or sought: leave the rest unprocessed and unresolved.
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = messages.slice(start, start + this.chunkSize);
      await this.processor.processAll(
        chunk.map((m) => ({ topic, partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers })),
      );
      // The transaction has committed: only now may the group move past these records.
      payload.resolveOffset(chunk[chunk.length - 1].offset);
      await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
      await payload.heartbeat();
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
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
