/**
 * Activities that keep the gateway's read model (show and list) in step with
 * the workflow. Both writes are idempotent upserts. Each may carry the
 * transfer's events that announce it: they are appended to the worker's
 * event outbox in the write's own transaction (one step instead of two, and
 * a row and its event never one without the other). A retried write appends
 * them again; their ids are deterministic, so consumers drop the duplicate.
 */
import type { OutgoingRecord } from '../libs/contracts/src/events';
import type { PendingTransferInput, TransferOutcome, TransferReadModel } from '../libs/read-model/src/transfer-read-model';
import type { EventOutboxPort } from './event.activities';

/** The two writes the workflow needs, and nothing of the read side. */
export type TransferReadModelPort = Pick<TransferReadModel, 'recordPending' | 'recordEnded'>;

export interface TransferEnding {
  transferId: string;
  outcome: TransferOutcome;
  atMs: number;
  destinationProjectId: string | null;
}

export function createReadModelActivities(deps: { readModel: TransferReadModelPort; outbox: EventOutboxPort }) {
  return {
    async recordTransferPending(row: PendingTransferInput, events: OutgoingRecord[] = []): Promise<void> {
      await deps.outbox.enqueueWith(events, (stamped) => deps.readModel.recordPending(row, stamped));
    },

    async recordTransferEnded(ending: TransferEnding, events: OutgoingRecord[] = []): Promise<void> {
      const { transferId, outcome, atMs, destinationProjectId } = ending;
      await deps.outbox.enqueueWith(events, (stamped) =>
        deps.readModel.recordEnded(transferId, outcome, atMs, destinationProjectId, stamped),
      );
    },
  };
}

export type ReadModelActivities = ReturnType<typeof createReadModelActivities>;
