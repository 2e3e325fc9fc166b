/**
 * A Kafka client that has nothing to do does nothing: KafkaJS 2.2.4 left
 * every broker connection re-arming a 1 ms timer forever once it had an
 * answer (libs/kafka/src/request-queue-idle-fix.ts), which an operator sees
 * as every gateway, worker and consumer burning CPU at rest. Against the test
 * stack's real broker.
 */
import { createHook } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';
import { TOPICS } from '../../libs/contracts/src/events';
import { testStack } from '../support/stack';

const IDLE_MS = 1000;

/** Timers created in this process while it waits `ms`: an idle client creates almost none. */
async function timersCreatedWhileIdle(ms: number): Promise<number> {
  let timers = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timers++;
    },
  }).enable();
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    hook.disable();
  }
  return timers - 1; // the wait's own
}

describe('an idle KafkaJS client', () => {
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    const kafka = createKafkaClient({ brokers: testStack().kafkaBrokers, clientId: 'evs-test-idle-client', logLevel: 'error' });
    admin = kafka.admin();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await admin.connect();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('arms no timers of its own between requests, after answers came back', async () => {
    // Answers on the broker connections (the producer's connect had some too): each started the loop.
    expect(await admin.listTopics()).toContain(TOPICS.lifecycle);
    await admin.fetchTopicMetadata({ topics: [TOPICS.lifecycle] });
    await admin.fetchTopicOffsets(TOPICS.lifecycle);
    // Whatever a request's own timers leave behind ends within a few ms.
    await new Promise((resolve) => setTimeout(resolve, 100));

    const timers = await timersCreatedWhileIdle(IDLE_MS);
    // Without the fix: about a thousand a second per connection.
    expect(timers).toBeLessThan(20);
  });

  it('still answers a burst of requests on one connection in full, and is idle again after it', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => admin.fetchTopicOffsets(TOPICS.lifecycle)));
    expect(answers.every((offsets) => offsets.length > 0)).toBe(true);
    expect(await timersCreatedWhileIdle(IDLE_MS)).toBeLessThan(20);
  });
});
