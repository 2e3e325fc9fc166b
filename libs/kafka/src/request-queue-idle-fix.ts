/**
 * Stops KafkaJS 2.2.4 spinning a 1 ms timer on every broker connection.
 *
 * Its RequestQueue re-arms a "check pending requests" timer each time the
 * check runs, even when nothing is pending and nothing is throttled; the delay
 * it computes is then negative, which Node runs as 1 ms. Once a connection's
 * queue has run one check (the first time a request had to wait), the loop
 * never ends: every process with a Kafka client woke its event loop about a
 * thousand times a second per connection, idle or busy (upstream issues
 * tulios/kafkajs#1556 and #1704, unfixed in the last release). Measured here:
 * a gateway at rest after a benchmark used 5 % of a core doing only that.
 *
 * The check is only ever needed while a request waits in the queue, and
 * `push` arms it whenever it queues one, so nothing is lost by not arming it
 * for an empty queue. Applied once, when this module is first loaded, to the
 * class every KafkaJS connection uses.
 */
import { createRequire } from 'node:module';
import { Logger } from '@nestjs/common';

interface RequestQueueInternals {
  pending: unknown[];
  scheduleCheckPendingRequests: (this: RequestQueueInternals) => void;
}

type RequestQueueClass = { prototype: RequestQueueInternals & { [PATCHED]?: true } };

const PATCHED = Symbol.for('evs.kafkajs.requestQueueIdleFix');

export function applyRequestQueueIdleFix(): boolean {
  // A private module of KafkaJS: the patch checks the shape it relies on and
  // leaves a changed KafkaJS alone (with a warning) rather than guess.
  let RequestQueue: RequestQueueClass | undefined;
  try {
    RequestQueue = createRequire(__filename)('kafkajs/src/network/requestQueue') as RequestQueueClass;
  } catch {
    RequestQueue = undefined;
  }
  const proto = RequestQueue?.prototype;
  if (!proto || typeof proto.scheduleCheckPendingRequests !== 'function') {
    new Logger('KafkaJS').warn('KafkaJS RequestQueue not found where expected: its idle timer loop is not fixed');
    return false;
  }
  if (proto[PATCHED]) return true;
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (!Array.isArray(this.pending) || this.pending.length > 0) schedule.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

applyRequestQueueIdleFix();
