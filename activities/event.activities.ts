/**
 * The activity that puts the workflow's events on Kafka. The workflow is the
 * outbox: an event is in history before it is published, and this activity
 * is retried until the broker takes it, so none is lost; ids are
 * deterministic, so a retry that did reach the broker is a harmless duplicate.
 */
import type { OutgoingRecord } from '../libs/contracts/src/events';

export interface EventPublisherPort {
  publish(records: OutgoingRecord[]): Promise<void>;
}

export function createEventActivities(deps: { publisher: EventPublisherPort }) {
  return {
    async publishEvents(records: OutgoingRecord[]): Promise<void> {
      await deps.publisher.publish(records);
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
