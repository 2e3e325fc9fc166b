/** The audit log as the consumer machinery drives it: decide is pure, apply appends inside the consumer's transaction. */
import type { EventHandler } from '../../../../libs/consumer/src/event-processor';
import { type AuditEntry, auditEntryOf } from './audit-entry';
import type { AuditLogStore, AuditTables } from './audit-log.store';

export function auditLogHandler(store: AuditLogStore): EventHandler<AuditEntry, AuditTables> {
  return {
    decide: (event, record) => auditEntryOf(event, record),
    apply: (entry, _event, trx) => store.append(trx, entry),
  };
}
