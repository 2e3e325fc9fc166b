/**
 * What the ledger takes from a lifecycle event: the owner it shows at a
 * moment, or the move of ownership an acceptance is. Pure.
 *
 * A create_rejected event says nothing about ownership: a project that
 * names another project's disk gets one too (DiskNotFound), with itself as
 * source_project_id. So it is known, and ignored.
 */
import { CLOUD_EVENT_TYPES, type CloudEvent } from '../../../../libs/contracts/src/events';
import { readEventData } from '../../../../libs/contracts/src/event-data';
import type { Decision } from '../../../../libs/consumer/src/event-processor';
import { fromCinderTimestamp } from '../../../../libs/domain/src/ids';
import type { OwnershipFact } from './ownership-ledger';

interface TransferNamed {
  transfer_id: string;
  volume_id: string;
  source_project_id: string;
}

type Change = { kind: 'created' | 'deleted' | 'expired' } | { kind: 'accepted'; destinationProjectId: string };

function fact(event: CloudEvent<unknown>, data: TransferNamed, time: { field: string; text: string }, change: Change): Decision<OwnershipFact> {
  // The fact's time is the event's own field (when it happened), not ce_time (when it was published).
  const atMs = fromCinderTimestamp(time.text);
  if (atMs === null) return { kind: 'invalid', detail: `${event.type}: ${time.field} is not a time` };
  return {
    kind: 'apply',
    effect: { eventId: event.id, diskId: data.volume_id, transferId: data.transfer_id, sourceProjectId: data.source_project_id, atMs, ...change },
  };
}

export function ownershipFactOf(event: CloudEvent<unknown>): Decision<OwnershipFact> {
  const read = readEventData(event.type, event.data);
  if (read.kind !== 'known') return read;
  const known = read.event;
  switch (known.type) {
    case CLOUD_EVENT_TYPES.TransferCreated:
      return fact(event, known.data, { field: 'created_at', text: known.data.created_at }, { kind: 'created' });
    case CLOUD_EVENT_TYPES.TransferDeleted:
      return fact(event, known.data, { field: 'deleted_at', text: known.data.deleted_at }, { kind: 'deleted' });
    case CLOUD_EVENT_TYPES.TransferExpired:
      return fact(event, known.data, { field: 'expired_at', text: known.data.expired_at }, { kind: 'expired' });
    case CLOUD_EVENT_TYPES.TransferAccepted:
      return fact(event, known.data, { field: 'accepted_at', text: known.data.accepted_at }, {
        kind: 'accepted',
        destinationProjectId: known.data.destination_project_id,
      });
    default:
      return { kind: 'ignore' };
  }
}
