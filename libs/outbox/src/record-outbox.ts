/**
 * A transactional outbox of Kafka records: a table in a store's own
 * database. A record is inserted before whatever it describes is answered or
 * acted on; a relay (OutboxRelay) publishes the rows oldest first and
 * deletes them only after Kafka acknowledged them. A process killed with
 * rows unsent finds them when it starts again, or, on a PostgreSQL database
 * shared by several replicas, another replica sends them.
 *
 * The gateway keeps one for API audit records (AuditOutbox); the worker
 * keeps one, in the read model's database, for the transfers' events.
 */
import { type Kysely, sql } from 'kysely';
import type { OutgoingRecord } from '../../contracts/src/events';
import type { DatabaseTarget } from '../../database/src/database-url';
import type { SqlDialect, StoreDatabase } from '../../database/src/store-database';

export interface OutboxRow {
  /** Insertion order; rows are published in it. */
  seq: number;
  record: OutgoingRecord;
}

/** What one turn of the relay did. */
export type RelayTurn =
  /** This process was the relay: `rows` were published and removed (0: the outbox was empty). */
  | { relayed: true; rows: number }
  /** Another replica was relaying: it sends them, in order; ask again shortly. */
  | { relayed: false };

/** What a relay and the outbox gauges need of an outbox. */
export interface OutboxLook {
  /**
   * The outbox is this process's own (SQLite): every row appended since the relay's last read
   * kicked it, so a turn that found less than a batch leaves nothing to look for at once. (A
   * second process on the same file kicks its own relay; the idle poll finds what a stopped
   * one left.) On a shared outbox (PostgreSQL) another replica's rows may arrive meanwhile
   * unkicked here, and the relay looks again.
   */
  readonly soleRelay: boolean;
  oldest(limit: number): Promise<OutboxRow[]>;
  count(): Promise<number>;
  relay(limit: number, publish: (records: OutgoingRecord[]) => Promise<void>): Promise<RelayTurn>;
}

/** Every outbox table has this shape; the row type names it by a placeholder the class maps to the real name. */
interface OutboxSchema {
  outbox: { seq: number; record: string };
}

/**
 * Creates an outbox table in a store's migration, only if missing (so a
 * table created by an earlier release's own step is taken over as it is).
 * A seq is never reused, even after the newest rows were deleted:
 * AUTOINCREMENT on SQLite, an identity (a sequence) on PostgreSQL.
 */
export async function createOutboxTable(db: Kysely<unknown>, dialect: SqlDialect, table: string): Promise<void> {
  await db.schema
    .createTable(table)
    .ifNotExists()
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    // Text rather than jsonb: the record goes out exactly as it was stored.
    .addColumn('record', 'text', (c) => c.notNull())
    .execute();
}

export class RecordOutbox implements OutboxLook {
  private closed = false;
  private readonly store: StoreDatabase<OutboxSchema>;
  private readonly relayLockKey: string;

  /**
   * An outbox in `table` of a store already open (its migrations created the
   * table with createOutboxTable). The owner of the store closes it.
   * `relayLock` names the lock the replicas sharing the table relay under.
   */
  constructor(
    // Any store's: only its connection and dialect are used, on this table.
    store: StoreDatabase<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly table: string,
    target: DatabaseTarget,
    relayLock: string,
  ) {
    this.store = store as StoreDatabase<OutboxSchema>;
    // Another schema in the same database has a lock of its own.
    this.relayLockKey = `${relayLock}:${target.dialect === 'postgres' ? target.schema : ''}`;
  }

  get soleRelay(): boolean {
    return this.store.dialect === 'sqlite';
  }

  /** Appends records, in order, in one statement; they are committed when this resolves. */
  async append(...records: OutgoingRecord[]): Promise<void> {
    await this.store.run((db) => this.appendWithin(db, records));
  }

  /**
   * Appends records, in order, on `db`: a transaction of the same store, so
   * they commit (or not) with whatever else it writes.
   */
  async appendWithin(
    // Any transaction of the store's: only this table is touched.
    db: Kysely<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    records: readonly OutgoingRecord[],
  ): Promise<void> {
    if (this.closed) throw new Error(`the outbox ${this.table} is closed`);
    if (records.length === 0) return;
    await (db as Kysely<OutboxSchema>)
      .insertInto(this.name())
      .values(records.map((record) => ({ record: JSON.stringify(record) })) as never)
      .execute();
  }

  /** The oldest rows, at most `limit`, in insertion order; none once closed. A look only: relay() is what sends them. */
  async oldest(limit: number): Promise<OutboxRow[]> {
    if (this.closed) return [];
    return this.store.run((db) => this.oldestRows(db, limit));
  }

  /** Rows not yet acknowledged. */
  async count(): Promise<number> {
    if (this.closed) return 0;
    const row = await this.store.run((db) =>
      db
        .selectFrom(this.name())
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
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
      const rows = await this.oldestRows(db, limit);
      if (rows.length === 0) return 0;
      await publish(rows.map((row) => row.record));
      await db
        .deleteFrom(this.name())
        .where('seq', 'in', rows.map((row) => row.seq))
        .execute();
      return rows.length;
    });
  }

  /** Nothing more is appended or relayed; the store stays open for its owner to close. */
  markClosed(): void {
    this.closed = true;
  }

  /**
   * The one place the dialects differ: who may relay.
   *
   * A SQLite file belongs to one host, and nearly always to one process of
   * the kind that relays, so there is nothing to elect, and the turn runs
   * outside a transaction: on SQLite a transaction would hold the only
   * connection, and with it every other write of the process, while Kafka
   * answers. Two relays on one file would at worst send a row twice, with
   * the same event id.
   *
   * On PostgreSQL several replicas share the table, and a record's key
   * (its volume, else its transfer) orders its records on Kafka, so one
   * relay at a time sends the oldest rows. Rows claimed with FOR UPDATE SKIP LOCKED
   * would let two relays send disjoint rows at once, and with them two
   * records of one key out of order (the second relay skips the first's
   * locked row and sends the key's next one). So each turn is a
   * transaction that first takes a transaction-scoped advisory lock,
   * without waiting: the one that gets it reads, publishes and deletes,
   * and commits its deletes before the lock is let go, so the next relay,
   * in this replica or another, starts from what is really left. The lock
   * lives on the turn's own connection: if that connection drops, the
   * server ends the transaction and the lock with it, and another replica
   * takes the next turn (resending the batch in flight, as after a crash:
   * a duplicate with the same event id). Scoped to the transaction rather
   * than the session, it can never outlive the turn on a connection handed
   * back to the pool, which would stop every replica's relay.
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

  private async oldestRows(db: Kysely<OutboxSchema>, limit: number): Promise<OutboxRow[]> {
    const rows = await db.selectFrom(this.name()).select(['seq', 'record']).orderBy('seq').limit(limit).execute();
    return rows.map((row) => ({ seq: Number(row.seq), record: JSON.parse(row.record) as OutgoingRecord }));
  }

  /** The real table under the schema's placeholder name. */
  private name(): 'outbox' {
    return this.table as 'outbox';
  }
}
