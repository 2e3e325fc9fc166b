import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, type OutgoingRecord, TOPICS } from '../../contracts/src/events';
import { MeteredEventPublisher, transferEventOf } from './metered-event-publisher';

const record = (type: string, topic: OutgoingRecord['topic'] = TOPICS.lifecycle): OutgoingRecord =>
  ({ topic, key: 'disk-1', event: { type } }) as unknown as OutgoingRecord;

describe('MeteredEventPublisher', () => {
  it('counts acknowledged events by topic and type, and transfer events by event name', async () => {
    const registry = new Registry();
    const publisher = new MeteredEventPublisher({ publish: async () => undefined }, registry);
    await publisher.publish([record(CLOUD_EVENT_TYPES.TransferCreated), record(CLOUD_EVENT_TYPES.TransferAccepted)]);
    await publisher.publish([record(CLOUD_EVENT_TYPES.TransferLockedOut, TOPICS.securityAudit), record(CLOUD_EVENT_TYPES.ApiCallAudited, TOPICS.apiAudit)]);
    const text = await registry.metrics();
    expect(text).toMatch(/^evs_events_published_total\{topic="evs.transfer.lifecycle.v1",type="com.huaweicloud.evs.transfer.created.v1"\} 1$/m);
    expect(text).toMatch(/^evs_transfer_events_total\{event="accepted"\} 1$/m);
    expect(text).toMatch(/^evs_transfer_events_total\{event="locked_out"\} 1$/m);
    expect(text).not.toMatch(/^evs_transfer_events_total\{event="called"\}/m);
    expect(text).toMatch(/^evs_event_publish_duration_seconds_count 2$/m);
  });

  it('counts each record of a failed publish as a failure, and none as published', async () => {
    const registry = new Registry();
    const publisher = new MeteredEventPublisher({ publish: async () => Promise.reject(new Error('broker away')) }, registry);
    await expect(publisher.publish([record(CLOUD_EVENT_TYPES.TransferCreated), record(CLOUD_EVENT_TYPES.TransferDeleted)])).rejects.toThrow('broker away');
    const text = await registry.metrics();
    expect(text).toMatch(/^evs_event_publish_failures_total\{topic="evs.transfer.lifecycle.v1"\} 2$/m);
    expect(text).not.toMatch(/^evs_events_published_total\{/m);
  });

  it('names transfer events from their CloudEvents type', () => {
    expect(transferEventOf(CLOUD_EVENT_TYPES.TransferExpired)).toBe('expired');
    expect(transferEventOf(CLOUD_EVENT_TYPES.TransferCreateRejected)).toBe('create_rejected');
    expect(transferEventOf(CLOUD_EVENT_TYPES.ApiCallAudited)).toBeNull();
  });
});
