/** Builds the worker's activity table from the narrow ports each group needs. */
import {
  createEventActivities,
  createInventoryActivities,
  createReadModelActivities,
  createReconcilerActivities,
} from '../../../activities';
import type {
  EventOutboxPort,
  EventPublisherPort,
  FindingLedgerPort,
  InventoryReconcilePort,
  InventoryTransferPort,
  TransferReadModelPort,
  TransferRecordsPort,
  TransferWorkflowsPort,
} from '../../../activities';

export function createTransferActivities(deps: {
  inventory: InventoryTransferPort;
  readModel: TransferReadModelPort;
  publisher: EventPublisherPort;
  outbox: EventOutboxPort;
}) {
  return {
    ...createInventoryActivities({ inventory: deps.inventory }),
    ...createReadModelActivities({ readModel: deps.readModel, outbox: deps.outbox }),
    ...createEventActivities({ publisher: deps.publisher, outbox: deps.outbox }),
  };
}

/** Everything one worker runs: the transfers' activities and the reconciler's. */
export function createWorkerActivities(deps: {
  inventory: InventoryTransferPort & InventoryReconcilePort;
  readModel: TransferReadModelPort;
  records: TransferRecordsPort;
  publisher: EventPublisherPort;
  outbox: EventOutboxPort;
  workflows: TransferWorkflowsPort;
  ledger: FindingLedgerPort;
}) {
  return {
    ...createTransferActivities(deps),
    ...createReconcilerActivities(deps),
  };
}

export type WorkerActivities = ReturnType<typeof createWorkerActivities>;
