/** The ledger as the consumer machinery drives it: decide is pure, apply writes inside the consumer's transaction. */
import type { EventHandler } from '../../../../libs/consumer/src/event-processor';
import { ownershipFactOf } from './lifecycle-facts';
import type { OwnershipFact } from './ownership-ledger';
import type { OwnershipStore, OwnershipTables } from './ownership.store';

export function ownershipLedgerHandler(store: OwnershipStore): EventHandler<OwnershipFact, OwnershipTables> {
  return {
    decide: (event) => ownershipFactOf(event),
    apply: (fact, _event, trx) => store.record(trx, fact),
  };
}
