/**
 * Activities that keep the gateway's read model (show and list) in step with
 * the workflow. Both writes are idempotent upserts.
 */
import type { PendingTransferInput, TransferOutcome, TransferReadModel } from '../libs/read-model/src/transfer-read-model';

/** The two writes the workflow needs, and nothing of the read side. */
export type TransferReadModelPort = Pick<TransferReadModel, 'recordPending' | 'recordEnded'>;

export function createReadModelActivities(deps: { readModel: TransferReadModelPort }) {
  return {
    async recordTransferPending(row: PendingTransferInput): Promise<void> {
      await deps.readModel.recordPending(row);
    },

    async recordTransferEnded(input: {
      transferId: string;
      outcome: TransferOutcome;
      atMs: number;
      destinationProjectId: string | null;
    }): Promise<void> {
      await deps.readModel.recordEnded(input.transferId, input.outcome, input.atMs, input.destinationProjectId);
    },
  };
}

export type ReadModelActivities = ReturnType<typeof createReadModelActivities>;
