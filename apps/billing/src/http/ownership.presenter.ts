/** The ledger's answers on the wire: snake_case, times in RFC 3339 UTC, `to: null` while the project owns the disk. */
import { isoTime } from '../../../../libs/consumer/src/query-http';
import type { OwnershipInterval } from '../ledger/ownership-ledger';

export interface OwnershipIntervalView {
  disk_id: string;
  project_id: string;
  from: string;
  to: string | null;
  started_by_transfer_id: string | null;
  ended_by_transfer_id: string | null;
}

export function presentInterval(interval: OwnershipInterval): OwnershipIntervalView {
  return {
    disk_id: interval.diskId,
    project_id: interval.projectId,
    from: isoTime(interval.fromMs),
    to: interval.toMs === null ? null : isoTime(interval.toMs),
    started_by_transfer_id: interval.startedByTransferId,
    ended_by_transfer_id: interval.endedByTransferId,
  };
}
