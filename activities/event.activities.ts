/**
 * The activities that get the workflow's events to Kafka. The workflow
 * decides its events and keeps them in order; it hands them here, and ids
 * are deterministic, so anything sent twice is a duplicate consumers drop.
 *
 * enqueueEvents (a local activity, run inside the workflow task) appends
 * them to the worker's outbox, from which its relay sends them: no task of
 * their own through the Temporal server. publishEvents sent them to Kafka
 * directly, as an ordinary activity retried until the broker took them; it
 * stays for the transfers that started before the outbox, whose histories
 * call it.
 */
import type { OutgoingRecord } from '../libs/contracts/src/events';

export interface EventPublisherPort {
  publish(records: OutgoingRecord[]): Promise<void>;
}

/** Appends to the outbox, committed when it resolves, and sees that the relay sends them. */
export interface EventOutboxPort {
  enqueue(records: OutgoingRecord[]): Promise<void>;
  /**
   * The same, with `write` doing the appending: it stores the records it is
   * given (stamped as enqueue would stamp them) in a transaction of its own
   * with whatever else it writes. With no records, `write` just runs.
   */
  enqueueWith(records: OutgoingRecord[], write: (stamped: OutgoingRecord[]) => Promise<void>): Promise<void>;
}

export function createEventActivities(deps: { publisher: EventPublisherPort; outbox: EventOutboxPort }) {
  return {
    async enqueueEvents(records: OutgoingRecord[]): Promise<void> {
      await deps.outbox.enqueue(records);
    },

    async publishEvents(records: OutgoingRecord[]): Promise<void> {
      await deps.publisher.publish(records);
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
