/** The ledger as the consumer machinery drives it: decide is pure, apply writes inside the consumer's transaction. */
import type { EventHandler } from '../../../../libs/consumer/src/event-processor';
import { ownershipFactOf } from './lifecycle-facts';
import type { OwnershipFact } from './ownership-ledger';
import type { OwnershipStore } from './ownership.store';

export function ownershipLedgerHandler(store: OwnershipStore): EventHandler<OwnershipFact> {
  return {
    decide: (event) => ownershipFactOf(event),
    apply: (fact) => store.record(fact),
  };
}
