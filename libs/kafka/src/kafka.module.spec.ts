import { Injectable, Inject, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../contracts/src/events';
import { EVENT_PUBLISHER, type EventPublisher, KafkaEventPublisher } from './event-publisher';
import { KafkaModule } from './kafka.module';

const config = { kafka: { brokers: ['127.0.0.1:1'], clientId: 'spec', topicReplicationFactor: 1 }, logLevel: 'silent' as const };

@Injectable()
class AuditTrail {
  constructor(@Inject(EVENT_PUBLISHER) readonly publisher: EventPublisher) {}
}

/** Injected by type alone: needs the decorator metadata the SWC transform emits. */
@Injectable()
class NeedsAuditTrail {
  constructor(readonly trail: AuditTrail) {}
}

@Module({ providers: [AuditTrail, NeedsAuditTrail] })
class FeatureModule {}

describe('KafkaModule', () => {
  it('provides a KafkaEventPublisher under EVENT_PUBLISHER to other modules, without connecting', async () => {
    const app = await Test.createTestingModule({ imports: [KafkaModule.forRoot({ config }), FeatureModule] }).compile();

    expect(app.get(NeedsAuditTrail).trail.publisher).toBeInstanceOf(KafkaEventPublisher);
    await app.close();
  });

  it('lets a test replace the publisher by overriding the one provider, and disconnects whatever it got', async () => {
    const published: OutgoingRecord[] = [];
    let disconnected = false;
    const fake = {
      publish: (records: readonly OutgoingRecord[]) => {
        published.push(...records);
        return Promise.resolve();
      },
      disconnect: () => {
        disconnected = true;
        return Promise.resolve();
      },
    };
    const app = await Test.createTestingModule({ imports: [KafkaModule.forRoot({ config }), FeatureModule] })
      .overrideProvider(EVENT_PUBLISHER)
      .useValue(fake)
      .compile();

    expect(app.get(AuditTrail).publisher).toBe(fake);
    await app.close();
    expect(disconnected).toBe(true);
  });
});

describe('KafkaEventPublisher', () => {
  it('does nothing for an empty batch and refuses to publish once disconnected', async () => {
    const publisher = new KafkaEventPublisher({ ...config.kafka, logLevel: 'silent' });

    await publisher.publish([]);
    await publisher.disconnect();
    await expect(publisher.publish([])).rejects.toThrow(/disconnected/);
  });
});
