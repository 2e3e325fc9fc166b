/**
 * The ledger's tables, beside the consumer machinery's in billing's
 * database: every ownership fact, one row per event id, and each disk's
 * intervals as ownershipIntervals() builds them from all of its facts. A
 * new fact rebuilds its disk's intervals in the same transaction (a disk
 * has a handful of transfers), so the intervals never depend on the order
 * facts came in.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { columnTypes } from '../../../../libs/consumer/src/consumer-database';
import type { StoreDatabase, StoreMigration } from '../../../../libs/database/src/store-database';
import { type OwnershipFact, type OwnershipInterval, ownershipIntervals } from './ownership-ledger';

export const BILLING_MIGRATIONS: readonly StoreMigration[] = [
  {
    // The SQLite-only release created these same tables (as billing/1 in
    // its own bookkeeping): if not exists takes such a file over as it is.
    name: '0002_ownership_ledger',
    async up(db, dialect) {
      const types = columnTypes(dialect);
      await db.schema
        .createTable('ownership_facts')
        .ifNotExists()
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('disk_id', 'text', (c) => c.notNull())
        .addColumn('transfer_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('created', 'accepted', 'deleted', 'expired')`))
        .addColumn('source_project_id', 'text', (c) => c.notNull())
        .addColumn('destination_project_id', 'text')
        .addColumn('at_ms', types.epochMs, (c) => c.notNull())
        .addCheckConstraint('accepted_names_destination', sql`(kind = 'accepted') = (destination_project_id IS NOT NULL)`)
        .modifyEnd(types.strict)
        .execute();
      await db.schema.createIndex('ownership_facts_by_disk').ifNotExists().on('ownership_facts').column('disk_id').execute();
      await db.schema
        .createTable('ownership_intervals')
        .ifNotExists()
        .addColumn('disk_id', types.sortedText, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('from_ms', types.epochMs, (c) => c.notNull())
        .addColumn('to_ms', types.epochMs, (c) => c.check(sql`to_ms IS NULL OR to_ms > from_ms`))
        .addColumn('started_by_transfer_id', 'text')
        .addColumn('ended_by_transfer_id', 'text')
        .addPrimaryKeyConstraint('ownership_intervals_pkey', ['disk_id', 'seq'])
        .modifyEnd(types.strict)
        .execute();
      await db.schema
        .createIndex('ownership_intervals_by_project')
        .ifNotExists()
        .on('ownership_intervals')
        .columns(['project_id', 'from_ms'])
        .execute();
    },
  },
];

interface OwnershipFactsTable {
  event_id: string;
  disk_id: string;
  transfer_id: string;
  kind: OwnershipFact['kind'];
  source_project_id: string;
  destination_project_id: string | null;
  at_ms: number;
}

interface OwnershipIntervalsTable {
  disk_id: string;
  seq: number;
  project_id: string;
  from_ms: number;
  to_ms: number | null;
  started_by_transfer_id: string | null;
  ended_by_transfer_id: string | null;
}

export interface OwnershipTables {
  ownership_facts: OwnershipFactsTable;
  ownership_intervals: OwnershipIntervalsTable;
}

type FactRow = OwnershipFactsTable;
type IntervalRow = Omit<OwnershipIntervalsTable, 'seq'>;

function toFact(row: FactRow): OwnershipFact {
  const common = { eventId: row.event_id, diskId: row.disk_id, transferId: row.transfer_id, sourceProjectId: row.source_project_id, atMs: row.at_ms };
  return row.kind === 'accepted'
    ? { ...common, kind: 'accepted', destinationProjectId: row.destination_project_id ?? '' }
    : { ...common, kind: row.kind };
}

function toInterval(row: IntervalRow): OwnershipInterval {
  return {
    diskId: row.disk_id,
    projectId: row.project_id,
    fromMs: row.from_ms,
    toMs: row.to_ms,
    startedByTransferId: row.started_by_transfer_id,
    endedByTransferId: row.ended_by_transfer_id,
  };
}

const INTERVAL_COLUMNS = ['disk_id', 'project_id', 'from_ms', 'to_ms', 'started_by_transfer_id', 'ended_by_transfer_id'] as const;

export class OwnershipStore {
  constructor(private readonly store: StoreDatabase<OwnershipTables>) {}

  /**
   * Keeps the fact (once per event id) and rebuilds its disk's intervals.
   * Runs in the consumer's transaction, `trx`.
   *
   * Reading the disk's facts and rewriting its intervals is a read-then-
   * write: two replicas recording different facts of one disk at once
   * would each miss the other's fact and the last commit would win. On
   * PostgreSQL a transaction lock per disk makes the second wait, and the
   * facts it then reads (a fresh snapshot per statement, READ COMMITTED)
   * include the first one's. SQLite has one writer at a time already.
   * The lock lasts until the batch commits; replicas meet only on one
   * partition (a disk's events share its key) in the same order, and a
   * deadlock all the same would run the batch again (40P01 is retried).
   */
  async record(trx: Transaction<OwnershipTables>, fact: OwnershipFact): Promise<void> {
    if (this.store.dialect === 'postgres') {
      // hashtext folds the id to 32 bits: two disks sharing a lock only wait for each other.
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`evs-ownership:${fact.diskId}`}))`.execute(trx);
    }
    await trx
      .insertInto('ownership_facts')
      .values({
        event_id: fact.eventId,
        disk_id: fact.diskId,
        transfer_id: fact.transferId,
        kind: fact.kind,
        source_project_id: fact.sourceProjectId,
        destination_project_id: fact.kind === 'accepted' ? fact.destinationProjectId : null,
        at_ms: fact.atMs,
      })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
    const facts = await trx.selectFrom('ownership_facts').selectAll().where('disk_id', '=', fact.diskId).execute();
    const intervals = ownershipIntervals(facts.map(toFact));
    await trx.deleteFrom('ownership_intervals').where('disk_id', '=', fact.diskId).execute();
    if (intervals.length === 0) return;
    await trx
      .insertInto('ownership_intervals')
      .values(
        intervals.map((interval, seq) => ({
          disk_id: interval.diskId,
          seq,
          project_id: interval.projectId,
          from_ms: interval.fromMs,
          to_ms: interval.toMs,
          started_by_transfer_id: interval.startedByTransferId,
          ended_by_transfer_id: interval.endedByTransferId,
        })),
      )
      .execute();
  }

  /** The disk's intervals, oldest first; empty for a disk no event has named. */
  async disk(diskId: string): Promise<OwnershipInterval[]> {
    const rows = await this.store.run((db) =>
      db.selectFrom('ownership_intervals').select(INTERVAL_COLUMNS).where('disk_id', '=', diskId).orderBy('seq').execute(),
    );
    return rows.map(toInterval);
  }

  /** The project's intervals that meet [fromMs, toMs) (either end open), by start. */
  async project(projectId: string, range: { fromMs?: number; toMs?: number }): Promise<OwnershipInterval[]> {
    const rows = await this.store.run((db) => intervalsMeeting(db, projectId, range).execute());
    return rows.map(toInterval);
  }
}

/** Half-open intervals meet the range [from, to) when each starts before the other ends. */
function intervalsMeeting(db: Kysely<OwnershipTables>, projectId: string, range: { fromMs?: number; toMs?: number }) {
  let query = db.selectFrom('ownership_intervals').select(INTERVAL_COLUMNS).where('project_id', '=', projectId);
  if (range.toMs !== undefined) query = query.where('from_ms', '<', range.toMs);
  const { fromMs } = range;
  if (fromMs !== undefined) query = query.where((eb) => eb.or([eb('to_ms', 'is', null), eb('to_ms', '>', fromMs)]));
  return query.orderBy('from_ms').orderBy('disk_id').orderBy('seq');
}
