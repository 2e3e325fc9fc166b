/**
 * The worker's side of the transfers' event outbox: the enqueueEvents
 * activity appends here, and the read-model activities through here in
 * their own transactions (each record with the trace it was made in), and
 * the relay sends the rows to Kafka, in order, one worker at a time on a
 * shared database. Started with the worker, given a last bounded attempt
 * once the Temporal worker has drained.
 */
import type { OutgoingRecord } from '../../../libs/contracts/src/events';
import type { EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { traceHeaders } from '../../../libs/kafka/src/record-trace';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay, type OutboxRelayOptions } from '../../../libs/outbox/src/outbox-relay';
import type { RecordOutbox } from '../../../libs/outbox/src/record-outbox';
import type { EventOutboxPort } from '../../../activities';

/** How long shutdown waits for the outbox to reach Kafka; what is left is sent at the next start, or by another worker. */
const DRAIN_TIMEOUT_MS = 5000;

export class TransferEventOutbox implements EventOutboxPort {
  private readonly relay: OutboxRelay;

  constructor(
    private readonly outbox: RecordOutbox,
    publisher: EventPublisher,
    options: OutboxRelayOptions = DEFAULT_OUTBOX_RELAY_OPTIONS,
  ) {
    this.relay = new OutboxRelay(outbox, publisher, options, 'transfer event');
  }

  enqueue(records: OutgoingRecord[]): Promise<void> {
    return this.enqueueWith(records, (stamped) => this.outbox.append(...stamped));
  }

  async enqueueWith(records: OutgoingRecord[], write: (stamped: OutgoingRecord[]) => Promise<void>): Promise<void> {
    // Called in the activity's span: the consumers' spans join the transfer's trace.
    const trace = traceHeaders();
    await write(Object.keys(trace).length > 0 ? records.map((record) => ({ ...record, trace })) : records);
    if (records.length > 0) this.relay.kick();
  }

  start(): Promise<void> {
    return this.relay.start();
  }

  drain(): Promise<void> {
    return this.relay.drain(DRAIN_TIMEOUT_MS);
  }
}
