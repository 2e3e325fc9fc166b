/**
 * The outbox relay onto the real broker, at its production settings: rows
 * appended within its linger leave in one Kafka request, in order, and each
 * is deleted from the outbox once the broker took it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_ACTIONS, apiAuditRecord, type OutgoingRecord, TOPICS } from '../../libs/contracts/src/events';
import { type EventPublisher, KafkaEventPublisher } from '../../libs/kafka/src/event-publisher';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay } from '../../libs/outbox/src/outbox-relay';
import { AuditOutbox } from '../../apps/gateway/src/audit/audit-outbox';
import { KafkaCollector } from '../support/kafka-collector';
import { testStack } from '../support/stack';

const stack = testStack();

function auditRecord(volumeId: string): OutgoingRecord {
  return apiAuditRecord({
    requestId: randomUUID(),
    at: Date.now(),
    action: API_ACTIONS.delete,
    actor: { projectId: 'p-test', userId: 'u-test' },
    pathProjectId: 'p-test',
    target: { transferId: null, volumeId },
    outcome: { status: 202, code: null },
    sourceIp: null,
  });
}

describe('OutboxRelay on the test broker', () => {
  let kafka: KafkaEventPublisher;
  /** The batches the relay handed to Kafka, one entry per produce request. */
  const requests: string[][] = [];
  const counting: EventPublisher = {
    publish: async (records) => {
      requests.push(records.map((record) => record.event.id));
      await kafka.publish(records);
    },
  };

  beforeAll(() => {
    kafka = new KafkaEventPublisher({ brokers: stack.kafkaBrokers, clientId: 'evs-test-relay', logLevel: 'error' });
  });

  afterAll(async () => {
    await kafka.disconnect();
  });

  it('sends the rows appended during its linger in one request, in order, and empties the outbox', async () => {
    const outbox = await AuditOutbox.open({ dialect: 'sqlite', file: ':memory:' });
    const relay = new OutboxRelay(outbox, counting, DEFAULT_OUTBOX_RELAY_OPTIONS, 'audit record');
    const collector = await KafkaCollector.start([TOPICS.apiAudit]);
    try {
      const volumeId = `vol-${randomUUID()}`;
      const records = Array.from({ length: 5 }, () => auditRecord(volumeId));
      for (const record of records) {
        await outbox.append(record);
        relay.kick();
      }

      const last = records.at(-1)?.event.id;
      await collector.waitFor((e) => e.id === last);
      const ids = records.map((r) => r.event.id);
      expect(collector.events.filter((e) => e.key === volumeId).map((e) => e.id)).toEqual(ids);
      expect(requests).toEqual([ids]);
      // Deleted once the broker's acknowledgement is back, which may be just after the consumer saw them.
      await vi.waitFor(async () => expect(await outbox.count()).toBe(0));
    } finally {
      await relay.drain(5000);
      await collector.stop();
      await outbox.close();
    }
  });
});
