/**
 * Checks the broker on KAFKA_BROKERS with the same client the services use.
 *   kafka-check ready   one readiness probe, no retries (infra/kafka.sh polls it)
 *   kafka-check smoke   the operations the services rely on: admin createTopics
 *                       (waitForLeaders), the services' producer (acks=all, one try)
 *                       through KafkaEventPublisher, a consumer group reading it
 *                       back, then deletes its scratch topic
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../libs/config/src/config';
import type { OutgoingRecord, Topic } from '../../libs/contracts/src/events';
import { parseBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { KafkaEventPublisher } from '../../libs/kafka/src/event-publisher';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';

const logger = new Logger('kafka-check');

/**
 * Ready means ready for what the services do first, not just a listening
 * port: the cluster answers, the group coordinator has loaded (a consumer can
 * join) and an idempotent producer gets its producer id. Right after a start
 * the last two answer "coordinator is loading" for a moment.
 */
async function ready(): Promise<void> {
  const { kafka } = loadConfig();
  const client = createKafkaClient({
    brokers: kafka.brokers,
    clientId: `${kafka.clientId}-probe`,
    logLevel: 'silent',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    retry: { retries: 0 },
  });
  const admin = client.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    await admin.describeGroups(['evs-readiness-probe']);
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 100 } });
    await producer.connect();
    await producer.disconnect();
    logger.log(`cluster ${cluster.clusterId}: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`);
  } finally {
    await admin.disconnect();
  }
}

async function smoke(): Promise<void> {
  const config = loadConfig();
  const { brokers, clientId } = config.kafka;
  const topic = `evs.smoke.${randomUUID()}`;
  const client = createKafkaClient({ brokers, clientId: `${clientId}-smoke`, logLevel: config.logLevel });
  const admin = client.admin();
  await admin.connect();
  const publisher = new KafkaEventPublisher({ brokers, clientId: `${clientId}-smoke`, logLevel: config.logLevel });
  const consumer = client.consumer({ groupId: `evs-smoke-${randomUUID()}`, maxWaitTimeInMs: 100, heartbeatInterval: 500 });
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    });
    if (!created) throw new Error(`createTopics reported ${topic} as already existing`);
    logger.log(`admin.createTopics ok: ${topic}`);

    const count = 5;
    const records: OutgoingRecord[] = Array.from({ length: count }, (_, i) => ({
      topic: topic as Topic,
      key: `disk-${i % 2}`,
      event: {
        specversion: '1.0',
        id: `smoke/${i}`,
        source: 'evs/smoke',
        type: 'com.huaweicloud.evs.smoke.v1',
        subject: `smoke/${i}`,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { seq: i },
      },
    }));
    await publisher.publish(records);
    logger.log(`producer (acks=all) sent ${count} records`);

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set<string>();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumer saw ${seen.size}/${count} records in 30 s`)), 30_000);
      consumer
        .run({
          eachMessage: ({ message }) => {
            seen.add(parseBinaryModeMessage(message).id);
            if (seen.size === count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    await done;
    logger.log(`consumer group read back ${seen.size} CloudEvents`);
  } finally {
    await consumer.disconnect();
    await publisher.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  logger.log('smoke check passed');
}

const mode = process.argv[2] ?? 'ready';
const run = mode === 'smoke' ? smoke : ready;
run().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
