/**
 * The read side of transfers: what show and list answer from. The worker's
 * activities write it as the workflow moves (pending, then one ending); the
 * gateway only reads it. Both reach it through its database (READ_MODEL_
 * DATABASE_URL or DATABASE_URL): PostgreSQL when they run on several hosts,
 * a SQLite file on one machine.
 *
 * The workflow stays the authority: this table is a projection that may lag
 * it by an activity, never lead it. Each write is one statement whose guard
 * only moves a row forward (pending, then its first ending), so writes from
 * several workers, retried or overlapping, cannot take a transfer back. A
 * write may carry the events that announce it, appended to the event outbox
 * in the same transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { DatabaseTarget } from '../../database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../database/src/store-database';
import type { OutgoingRecord } from '../../contracts/src/events';
import { createOutboxTable, RecordOutbox } from '../../outbox/src/record-outbox';

export type TransferOutcome = 'accepted' | 'deleted' | 'expired';
export type TransferRowStatus = 'pending' | TransferOutcome;

export interface PendingTransferInput {
  id: string;
  name: string | null;
  volumeId: string;
  projectId: string;
  createdAtMs: number;
  expiresAtMs: number;
}

export interface TransferRow {
  id: string;
  name: string | null;
  volumeId: string;
  projectId: string;
  status: TransferRowStatus;
  createdAtMs: number;
  expiresAtMs: number;
  endedAtMs: number | null;
  destinationProjectId: string | null;
}

export interface ListPage {
  limit: number;
  offset: number;
}

export interface ReadModelOptions {
  /**
   * The clock that decides whether a pending row has lapsed. A transfer past
   * its expiry is no longer pending even if the worker has not yet recorded
   * the expiry (the workflow refuses it too), so reads hide it.
   */
  now?: () => number;
  poolMax?: number;
}

interface TransfersTable {
  id: string;
  name: string | null;
  volume_id: string | null;
  project_id: string | null;
  status: TransferRowStatus;
  created_at: number | null;
  expires_at: number | null;
  ended_at: number | null;
  destination_project_id: string | null;
}

interface ReadModelSchema {
  transfers: TransfersTable;
}

/**
 * The first two steps are the SQLite release's own schema, created only if
 * missing, so a file written by it is taken over as it is.
 */
export const READ_MODEL_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_transfers',
    async up(db, dialect) {
      const epochMs = dialect === 'postgres' ? 'bigint' : 'integer';
      await db.schema
        .createTable('transfers')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text')
        .addColumn('volume_id', 'text')
        .addColumn('project_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('pending', 'accepted', 'deleted', 'expired')`))
        .addColumn('created_at', epochMs)
        .addColumn('expires_at', epochMs)
        .addColumn('ended_at', epochMs)
        .addColumn('destination_project_id', 'text')
        // An ending may be recorded before (or without) the pending row, in
        // which case only the id and the ending are known: the row is a
        // tombstone that stops a late recordPending from bringing it back.
        .addCheckConstraint(
          'pending_rows_are_complete',
          sql`status <> 'pending' OR (volume_id IS NOT NULL AND project_id IS NOT NULL AND created_at IS NOT NULL AND expires_at IS NOT NULL)`,
        )
        .execute();
      await db.schema.createIndex('transfers_by_project').ifNotExists().on('transfers').columns(['project_id', 'status', 'created_at', 'id']).execute();
    },
  },
  {
    // The administrator's list of every project's pending transfers walks
    // this in the list order, instead of sorting the whole table on each page.
    name: '0002_transfers_by_status',
    async up(db) {
      await db.schema.createIndex('transfers_by_status').ifNotExists().on('transfers').columns(['status', 'created_at', 'id']).execute();
    },
  },
  {
    // The transfers' events wait here for the worker's relay: written in the
    // workflow's own step (a local activity), next to the rows they describe.
    name: '0003_event_outbox',
    up: (db, dialect) => createOutboxTable(db, dialect, EVENT_OUTBOX_TABLE),
  },
];

const EVENT_OUTBOX_TABLE = 'event_outbox';

const COLUMNS = ['id', 'name', 'volume_id', 'project_id', 'status', 'created_at', 'expires_at', 'ended_at', 'destination_project_id'] as const;

function toRow(r: Pick<TransfersTable, (typeof COLUMNS)[number]>): TransferRow {
  return {
    id: r.id,
    name: r.name,
    volumeId: r.volume_id as string,
    projectId: r.project_id as string,
    status: r.status,
    createdAtMs: r.created_at as number,
    expiresAtMs: r.expires_at as number,
    endedAtMs: r.ended_at,
    destinationProjectId: r.destination_project_id,
  };
}

export class TransferReadModel {
  private outbox: RecordOutbox | null = null;

  private constructor(
    private readonly store: StoreDatabase<ReadModelSchema>,
    private readonly target: DatabaseTarget,
    private readonly now: () => number,
  ) {}

  /**
   * The outbox of the transfers' events, in this database: the worker
   * appends to it and relays from it; on PostgreSQL every worker shares it.
   */
  eventOutbox(): RecordOutbox {
    this.outbox ??= new RecordOutbox(this.store, EVENT_OUTBOX_TABLE, this.target, 'evs-event-relay');
    return this.outbox;
  }

  /** Opens the read model, creating its schema (and SQLite file and folder) if needed. */
  static async open(target: DatabaseTarget, options: ReadModelOptions = {}): Promise<TransferReadModel> {
    const store = await StoreDatabase.open<ReadModelSchema>({
      store: 'readModel',
      target,
      migrations: READ_MODEL_MIGRATIONS,
      poolMax: options.poolMax,
    });
    return new TransferReadModel(store, target, options.now ?? Date.now);
  }

  /**
   * The transfer is pending. Idempotent: the row is written from the
   * workflow's own facts, so a repeat carries the same values; it only
   * refreshes a row still pending and never touches an ended one. `events`
   * go to the event outbox in the same transaction.
   */
  async recordPending(row: PendingTransferInput, events: readonly OutgoingRecord[] = []): Promise<void> {
    await this.writeWith(events, (db) =>
      db
        .insertInto('transfers')
        .values({
          id: row.id,
          name: row.name,
          volume_id: row.volumeId,
          project_id: row.projectId,
          status: 'pending',
          created_at: row.createdAtMs,
          expires_at: row.expiresAtMs,
        })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              volume_id: eb.ref('excluded.volume_id'),
              project_id: eb.ref('excluded.project_id'),
              created_at: eb.ref('excluded.created_at'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where('transfers.status', '=', 'pending'),
        )
        .execute(),
    );
  }

  /**
   * The transfer ended. Idempotent: the first ending recorded is kept (a
   * retried activity must not move ended_at). One upsert, so an ending that
   * meets its own pending row half-written on another connection can
   * neither be lost nor leave the row pending. `events` go to the event
   * outbox in the same transaction.
   */
  async recordEnded(
    id: string,
    outcome: TransferOutcome,
    atMs: number,
    destinationProjectId: string | null,
    events: readonly OutgoingRecord[] = [],
  ): Promise<void> {
    await this.writeWith(events, (db) =>
      db
        .insertInto('transfers')
        .values({ id, status: outcome, ended_at: atMs, destination_project_id: destinationProjectId })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({
              status: eb.ref('excluded.status'),
              ended_at: eb.ref('excluded.ended_at'),
              destination_project_id: eb.ref('excluded.destination_project_id'),
            }))
            .where('transfers.status', '=', 'pending'),
        )
        .execute(),
    );
  }

  /** Runs `write`, and appends `events` to the event outbox in its transaction when there are any. */
  private async writeWith(events: readonly OutgoingRecord[], write: (db: Kysely<ReadModelSchema>) => Promise<unknown>): Promise<void> {
    if (events.length === 0) {
      await this.store.run(write);
      return;
    }
    await this.store.transaction(async (trx) => {
      await write(trx);
      await this.eventOutbox().appendWithin(trx, events);
    });
  }

  /** The project's pending transfer with this id, or null (also for another project's). */
  async findPending(projectId: string, id: string): Promise<TransferRow | null> {
    const row = await this.store.run((db) =>
      pendingFrom(db, this.now())
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    return row ? toRow(row) : null;
  }

  /** The project's pending transfers, oldest first (created_at, then id). */
  async listPending(projectId: string, page: ListPage): Promise<TransferRow[]> {
    const rows = await this.store.run((db) =>
      pendingFrom(db, this.now())
        .where('project_id', '=', projectId)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
    );
    return rows.map(toRow);
  }

  /** Every project's pending transfers, in the same order: the administrator's all_tenants list. */
  async listPendingAllProjects(page: ListPage): Promise<TransferRow[]> {
    const rows = await this.store.run((db) =>
      pendingFrom(db, this.now()).orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit).offset(page.offset).execute(),
    );
    return rows.map(toRow);
  }

  /**
   * The transfer with this id in whatever project and state, or null: what
   * an administrator's force-delete knows of its target before the workflow
   * answers (an ending recorded before the pending row has no project yet).
   */
  async findAnyProject(id: string): Promise<TransferRow | null> {
    const row = await this.store.run((db) => db.selectFrom('transfers').select(COLUMNS).where('id', '=', id).executeTakeFirst());
    return row ? toRow(row) : null;
  }

  /**
   * For the operators' gauges: how many transfers are pending, the oldest's
   * creation and the earliest expiry among them. Rows past their expiry are
   * counted: a pending row the expiry should have ended is what an operator
   * must see.
   */
  async pendingSummary(): Promise<PendingSummary> {
    const row = await this.store.run((db) =>
      db
        .selectFrom('transfers')
        .select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('created_at').as('oldest'), eb.fn.min('expires_at').as('earliest_expiry')])
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow(),
    );
    const ms = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return { count: Number(row.count), oldestCreatedAtMs: ms(row.oldest), earliestExpiresAtMs: ms(row.earliest_expiry) };
  }

  async close(): Promise<void> {
    this.outbox?.markClosed();
    await this.store.close();
  }
}

export interface PendingSummary {
  count: number;
  oldestCreatedAtMs: number | null;
  earliestExpiresAtMs: number | null;
}

function pendingFrom(db: Kysely<ReadModelSchema>, nowMs: number) {
  return db.selectFrom('transfers').select(COLUMNS).where('status', '=', 'pending').where('expires_at', '>', nowMs);
}
