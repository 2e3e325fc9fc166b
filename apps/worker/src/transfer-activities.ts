/** Builds the worker's activity table from the narrow ports each group needs. */
import { createEventActivities, createInventoryActivities, createReadModelActivities } from '../../../activities';
import type { EventPublisherPort, InventoryTransferPort, TransferReadModelPort } from '../../../activities';

export function createTransferActivities(deps: {
  inventory: InventoryTransferPort;
  readModel: TransferReadModelPort;
  publisher: EventPublisherPort;
}) {
  return {
    ...createInventoryActivities({ inventory: deps.inventory }),
    ...createReadModelActivities({ readModel: deps.readModel }),
    ...createEventActivities({ publisher: deps.publisher }),
  };
}
