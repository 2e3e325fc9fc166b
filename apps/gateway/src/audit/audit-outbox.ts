/**
 * The gateway's transactional outbox for API audit records. A record is
 * inserted before the client can see the answer of the call it describes;
 * the relay in ApiAuditService publishes the rows oldest first and deletes
 * them only after Kafka acknowledged them. A gateway killed with records
 * unsent finds them here when it starts again, or, on a PostgreSQL database
 * shared by several gateways, another gateway sends them.
 *
 * On SQLite (the file local to one gateway) the WAL runs with
 * synchronous=NORMAL: a commit survives a crash of the process, not
 * necessarily of the OS, and skipping the per-call fsync keeps the insert in
 * the tens of microseconds. The spec asks for no loss on the crash of any
 * single process.
 */
import { type Generated, type Kysely, sql } from 'kysely';
import type { OutgoingRecord } from '../../../../libs/contracts/src/events';
import type { DatabaseTarget } from '../../../../libs/database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../../../libs/database/src/store-database';

export interface OutboxRow {
  /** Insertion order; rows are published in it. */
  seq: number;
  record: OutgoingRecord;
}

/** What one turn of the relay did. */
export type RelayTurn =
  /** This process was the relay: `rows` were published and removed (0: the outbox was empty). */
  | { relayed: true; rows: number }
  /** Another gateway was relaying: it sends them, in order; ask again shortly. */
  | { relayed: false };

interface OutboxSchema {
  audit_outbox: { seq: Generated<number>; record: string };
}

/**
 * The first step is the SQLite release's own table, created only if missing,
 * so a file written by it (with rows still unsent) is taken over as it is.
 */
export const AUDIT_OUTBOX_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_audit_outbox',
    async up(db, dialect) {
      // A seq is never reused, even after the newest rows were deleted:
      // AUTOINCREMENT on SQLite, an identity (a sequence) on PostgreSQL.
      await db.schema
        .createTable('audit_outbox')
        .ifNotExists()
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        // Text rather than jsonb: the record goes out exactly as it was stored.
        .addColumn('record', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

export class AuditOutbox {
  private closed = false;

  private constructor(
    private readonly store: StoreDatabase<OutboxSchema>,
    private readonly relayLockKey: string,
  ) {}

  /** Opens the outbox, creating its schema (and SQLite file and folder) if needed; ':memory:' gives one that is not durable, for tests. */
  static async open(target: DatabaseTarget, options: { poolMax?: number } = {}): Promise<AuditOutbox> {
    const store = await StoreDatabase.open<OutboxSchema>({
      store: 'gatewayOutbox',
      target,
      migrations: AUDIT_OUTBOX_MIGRATIONS,
      poolMax: options.poolMax,
    });
    // The gateways that share this table share the lock; another schema in the same database has its own.
    return new AuditOutbox(store, `evs-audit-relay:${target.dialect === 'postgres' ? target.schema : ''}`);
  }

  /** Appends a record; it is committed when this resolves. */
  async append(record: OutgoingRecord): Promise<void> {
    if (this.closed) throw new Error('the audit outbox is closed');
    await this.store.run((db) => db.insertInto('audit_outbox').values({ record: JSON.stringify(record) }).execute());
  }

  /** The oldest rows, at most `limit`, in insertion order; none once closed. A look only: relay() is what sends them. */
  async oldest(limit: number): Promise<OutboxRow[]> {
    if (this.closed) return [];
    return this.store.run((db) => oldestRows(db, limit));
  }

  /** Rows not yet acknowledged. */
  async count(): Promise<number> {
    if (this.closed) return 0;
    const row = await this.store.run((db) =>
      db.selectFrom('audit_outbox').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    );
    return Number(row.n);
  }

  /**
   * One turn of the relay: the oldest rows, at most `limit`, are handed to
   * `publish` and deleted once it resolved (Kafka acknowledged them). If
   * `publish` throws, nothing is deleted and the error is thrown here.
   *
   * Deleted by their own seqs, never "up to" the last one: a row with a
   * lower seq may commit after the read (a sequence value is taken at insert,
   * not at commit), and a range delete would drop it unsent. Such a row is
   * simply among the oldest at the next turn.
   */
  async relay(limit: number, publish: (records: OutgoingRecord[]) => Promise<void>): Promise<RelayTurn> {
    if (this.closed) return { relayed: true, rows: 0 };
    return this.asOnlyRelay(async (db) => {
      const rows = await oldestRows(db, limit);
      if (rows.length === 0) return 0;
      await publish(rows.map((row) => row.record));
      await db
        .deleteFrom('audit_outbox')
        .where('seq', 'in', rows.map((row) => row.seq))
        .execute();
      return rows.length;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.store.close();
  }

  /**
   * The one place the dialects differ: who may relay.
   *
   * A SQLite file belongs to one gateway process, so there is nothing to
   * elect, and the turn runs outside a transaction: on SQLite a transaction
   * would hold the only connection, and with it every request's append,
   * while Kafka answers.
   *
   * On PostgreSQL several gateways share the table, and a record's key
   * (its volume, else its transfer) orders its records on Kafka, so one
   * relay at a time sends the oldest rows. Rows claimed with FOR UPDATE SKIP LOCKED
   * would let two relays send disjoint rows at once, and with them two
   * records of one key out of order (the second relay skips the first's
   * locked row and sends the key's next one). So each turn is a
   * transaction that first takes a transaction-scoped advisory lock,
   * without waiting: the one that gets it reads, publishes and deletes,
   * and commits its deletes before the lock is let go, so the next relay,
   * in this gateway or another, starts from what is really left. The lock
   * lives on the turn's own connection: if that connection drops, the
   * server ends the transaction and the lock with it, and another gateway
   * takes the next turn (resending the batch in flight, as after a crash:
   * a duplicate with the same event id). Scoped to the transaction rather
   * than the session, it can never outlive the turn on a connection handed
   * back to the pool, which would stop every gateway's relay.
   *
   * Not run through the store's retry: it would run `publish` again and
   * treat a Kafka timeout as a database fault; the relay loop has its own
   * back-off.
   */
  private async asOnlyRelay(turn: (db: Kysely<OutboxSchema>) => Promise<number>): Promise<RelayTurn> {
    if (this.store.dialect === 'sqlite') return { relayed: true, rows: await turn(this.store.db) };
    return this.store.db.transaction().execute(async (trx): Promise<RelayTurn> => {
      const { rows } = await sql<{ elected: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext(${this.relayLockKey})) AS elected`.execute(trx);
      if (rows[0]?.elected !== true) return { relayed: false };
      return { relayed: true, rows: await turn(trx) };
    });
  }
}

async function oldestRows(db: Kysely<OutboxSchema>, limit: number): Promise<OutboxRow[]> {
  const rows = await db.selectFrom('audit_outbox').select(['seq', 'record']).orderBy('seq').limit(limit).execute();
  return rows.map((row) => ({ seq: Number(row.seq), record: JSON.parse(row.record) as OutgoingRecord }));
}
