/**
 * Creates the contract's topics before anything publishes: the broker runs
 * with auto.create.topics.enable=false, so a typo fails loudly instead of
 * creating a stray topic.
 */
import type { LoggerService } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { TOPICS } from '../../contracts/src/events';
import { createKafkaClient } from './kafka-client';

export interface EnsureTopicsOptions {
  topics?: readonly string[];
  partitions?: number;
  replicationFactor?: number;
  logger?: LoggerService;
}

/** Creates each missing topic and waits for its leaders; returns the names it created. */
export async function ensureTopics(
  brokers: string[],
  clientId: string,
  options: EnsureTopicsOptions = {},
): Promise<string[]> {
  const logger = options.logger ?? new Logger('KafkaTopics');
  const wanted = options.topics ?? Object.values(TOPICS);
  const admin = createKafkaClient({ brokers, clientId, logger }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      // createTopics answers false rather than failing when another process
      // created a topic first, so concurrent starts are harmless.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: options.partitions ?? 3,
          replicationFactor: options.replicationFactor ?? 1,
        })),
      });
      logger.log(`created topics: ${missing.join(', ')}`);
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
