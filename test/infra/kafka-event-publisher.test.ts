/**
 * libs/kafka against the real broker: topics exist, the producer
 * publishes CloudEvents in binary mode, a consumer group reads them back in
 * per-key order, and a failure reaches the caller instead of being dropped.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, type OutgoingRecord, TOPICS } from '../../libs/contracts/src/events';
import { KafkaEventPublisher } from '../../libs/kafka/src/event-publisher';
import { ensureTopics } from '../../libs/kafka/src/topics';
import { KafkaCollector } from '../support/kafka-collector';
import { testStack } from '../support/stack';

const stack = testStack();

function auditRecord(volumeId: string, requestId: string): OutgoingRecord {
  return apiAuditRecord({
    requestId,
    at: Date.now(),
    action: API_ACTIONS.get,
    actor: { projectId: 'p-test', userId: 'u-test' },
    pathProjectId: 'p-test',
    target: { transferId: null, volumeId },
    outcome: { status: 200, code: null },
    sourceIp: null,
  });
}

describe('KafkaEventPublisher on the test broker', () => {
  let publisher: KafkaEventPublisher;

  beforeAll(() => {
    publisher = new KafkaEventPublisher({ brokers: stack.kafkaBrokers, clientId: 'evs-test-publisher', logLevel: 'error' });
  });

  afterAll(async () => {
    await publisher.disconnect();
  });

  it('finds every contract topic already created, so ensureTopics creates nothing', async () => {
    await expect(ensureTopics(stack.kafkaBrokers, 'evs-test-admin')).resolves.toEqual([]);
  });

  it('publishes records that a fresh consumer group reads back as the same CloudEvents, in order per key', async () => {
    const collector = await KafkaCollector.start([TOPICS.apiAudit]);
    try {
      const volumeId = `vol-${randomUUID()}`;
      const records = Array.from({ length: 4 }, () => auditRecord(volumeId, randomUUID()));

      await publisher.publish(records.slice(0, 2));
      await publisher.publish(records.slice(2));

      const last = records.at(-1)?.event.id;
      await collector.waitFor((e) => e.id === last);
      const mine = collector.events.filter((e) => e.key === volumeId);
      expect(mine.map((e) => e.id)).toEqual(records.map((r) => r.event.id));
      expect(new Set(mine.map((e) => e.partition)).size).toBe(1);
      expect(mine[0]).toMatchObject({
        topic: TOPICS.apiAudit,
        type: CLOUD_EVENT_TYPES.ApiCallAudited,
        data: records[0]?.event.data,
      });
    } finally {
      await collector.stop();
    }
  });

  it('throws when the topic does not exist rather than creating it or dropping the record', async () => {
    const stray = { ...auditRecord('vol-x', randomUUID()), topic: `evs.no-such-topic.${randomUUID()}` } as unknown as OutgoingRecord;
    const quick = new KafkaEventPublisher({
      brokers: stack.kafkaBrokers,
      clientId: 'evs-test-publisher',
      logLevel: 'silent',
      retry: { retries: 1, initialRetryTime: 100 },
    });
    try {
      await expect(quick.publish([stray])).rejects.toThrow();
    } finally {
      await quick.disconnect();
    }
  });
});
