/**
 * Activities that keep the gateway's read model (show and list) in step with
 * the workflow. Both writes are idempotent upserts.
 */
import type { PendingTransferInput } from '../libs/read-model/src/transfer-read-model';

export type PendingTransferRow = PendingTransferInput;

export type TransferEnding = 'accepted' | 'deleted' | 'expired';

export interface TransferReadModelPort {
  recordPending(row: PendingTransferRow): void;
  recordEnded(id: string, outcome: TransferEnding, atMs: number, destinationProjectId: string | null): void;
}

export function createReadModelActivities(deps: { readModel: TransferReadModelPort }) {
  return {
    async recordTransferPending(row: PendingTransferRow): Promise<void> {
      deps.readModel.recordPending(row);
    },

    async recordTransferEnded(input: {
      transferId: string;
      outcome: TransferEnding;
      atMs: number;
      destinationProjectId: string | null;
    }): Promise<void> {
      deps.readModel.recordEnded(input.transferId, input.outcome, input.atMs, input.destinationProjectId);
    },
  };
}

export type ReadModelActivities = ReturnType<typeof createReadModelActivities>;
