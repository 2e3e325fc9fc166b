/**
 * The gateway's transactional outbox for API audit records (a RecordOutbox
 * in a store of its own): a record is inserted before the client can see
 * the answer of the call it describes, and ApiAuditService's relay sends it.
 *
 * On SQLite (the file local to one gateway) the WAL runs with
 * synchronous=NORMAL: a commit survives a crash of the process, not
 * necessarily of the OS, and skipping the per-call fsync keeps the insert in
 * the tens of microseconds. The spec asks for no loss on the crash of any
 * single process.
 */
import type { DatabaseTarget } from '../../../../libs/database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../../../libs/database/src/store-database';
import { createOutboxTable, RecordOutbox } from '../../../../libs/outbox/src/record-outbox';

/**
 * The first step is the SQLite release's own table, created only if missing,
 * so a file written by it (with rows still unsent) is taken over as it is.
 */
export const AUDIT_OUTBOX_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_audit_outbox',
    up: (db, dialect) => createOutboxTable(db, dialect, 'audit_outbox'),
  },
];

export class AuditOutbox extends RecordOutbox {
  private constructor(
    private readonly owned: StoreDatabase<unknown>,
    target: DatabaseTarget,
  ) {
    // The lock's name is the one gateways have always relayed under, so old and new ones take turns.
    super(owned, 'audit_outbox', target, 'evs-audit-relay');
  }

  /** Opens the outbox, creating its schema (and SQLite file and folder) if needed; ':memory:' gives one that is not durable, for tests. */
  static async open(target: DatabaseTarget, options: { poolMax?: number } = {}): Promise<AuditOutbox> {
    const store = await StoreDatabase.open<unknown>({
      store: 'gatewayOutbox',
      target,
      migrations: AUDIT_OUTBOX_MIGRATIONS,
      poolMax: options.poolMax,
    });
    return new AuditOutbox(store, target);
  }

  private closing: Promise<void> | null = null;

  async close(): Promise<void> {
    this.markClosed();
    this.closing ??= this.owned.close();
    await this.closing;
  }
}
