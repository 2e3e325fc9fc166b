/**
 * The ledger in SQLite: every ownership fact, one row per event id, and
 * each disk's intervals as ownershipIntervals() builds them from all of its
 * facts. A new fact rebuilds its disk's intervals in the same transaction
 * (a disk has a handful of transfers), so the intervals never depend on
 * the order facts came in.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../../../../libs/consumer/src/consumer-database';
import { type OwnershipFact, type OwnershipInterval, ownershipIntervals } from './ownership-ledger';

export const BILLING_MIGRATIONS: readonly Migration[] = [
  {
    id: 'billing/1',
    sql: `
  CREATE TABLE ownership_facts (
    event_id               TEXT    PRIMARY KEY,
    disk_id                TEXT    NOT NULL,
    transfer_id            TEXT    NOT NULL,
    kind                   TEXT    NOT NULL CHECK (kind IN ('created', 'accepted', 'deleted', 'expired')),
    source_project_id      TEXT    NOT NULL,
    destination_project_id TEXT,
    at_ms                  INTEGER NOT NULL,
    CHECK ((kind = 'accepted') = (destination_project_id IS NOT NULL))
  ) STRICT;
  CREATE INDEX ownership_facts_by_disk ON ownership_facts (disk_id);

  CREATE TABLE ownership_intervals (
    disk_id                TEXT    NOT NULL,
    seq                    INTEGER NOT NULL,
    project_id             TEXT    NOT NULL,
    from_ms                INTEGER NOT NULL,
    to_ms                  INTEGER CHECK (to_ms IS NULL OR to_ms > from_ms),
    started_by_transfer_id TEXT,
    ended_by_transfer_id   TEXT,
    PRIMARY KEY (disk_id, seq)
  ) STRICT;
  CREATE INDEX ownership_intervals_by_project ON ownership_intervals (project_id, from_ms);
  `,
  },
];

interface FactRow {
  event_id: string;
  disk_id: string;
  transfer_id: string;
  kind: OwnershipFact['kind'];
  source_project_id: string;
  destination_project_id: string | null;
  at_ms: number;
}

interface IntervalRow {
  disk_id: string;
  project_id: string;
  from_ms: number;
  to_ms: number | null;
  started_by_transfer_id: string | null;
  ended_by_transfer_id: string | null;
}

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

const INTERVAL_COLUMNS = 'disk_id, project_id, from_ms, to_ms, started_by_transfer_id, ended_by_transfer_id';

export class OwnershipStore {
  private readonly insertFact: Database.Statement;
  private readonly factsOfDisk: Database.Statement<[string], FactRow>;
  private readonly clearIntervals: Database.Statement<[string]>;
  private readonly insertInterval: Database.Statement;
  private readonly intervalsOfDisk: Database.Statement<[string], IntervalRow>;
  private readonly intervalsOfProject: Database.Statement<{ projectId: string; fromMs: number | null; toMs: number | null }, IntervalRow>;

  constructor(db: Database.Database) {
    this.insertFact = db.prepare(`
      INSERT OR IGNORE INTO ownership_facts (event_id, disk_id, transfer_id, kind, source_project_id, destination_project_id, at_ms)
      VALUES (@eventId, @diskId, @transferId, @kind, @sourceProjectId, @destinationProjectId, @atMs)`);
    this.factsOfDisk = db.prepare('SELECT * FROM ownership_facts WHERE disk_id = ?');
    this.clearIntervals = db.prepare('DELETE FROM ownership_intervals WHERE disk_id = ?');
    this.insertInterval = db.prepare(`
      INSERT INTO ownership_intervals (disk_id, seq, project_id, from_ms, to_ms, started_by_transfer_id, ended_by_transfer_id)
      VALUES (@diskId, @seq, @projectId, @fromMs, @toMs, @startedByTransferId, @endedByTransferId)`);
    this.intervalsOfDisk = db.prepare(`SELECT ${INTERVAL_COLUMNS} FROM ownership_intervals WHERE disk_id = ? ORDER BY seq`);
    // Half-open intervals meet the range [from, to) when each starts before the other ends.
    this.intervalsOfProject = db.prepare(`
      SELECT ${INTERVAL_COLUMNS} FROM ownership_intervals
      WHERE project_id = @projectId
        AND (@toMs IS NULL OR from_ms < @toMs)
        AND (@fromMs IS NULL OR to_ms IS NULL OR to_ms > @fromMs)
      ORDER BY from_ms, disk_id, seq`);
  }

  /** Keeps the fact (once per event id) and rebuilds its disk's intervals. Runs inside the consumer's transaction. */
  record(fact: OwnershipFact): void {
    this.insertFact.run({ destinationProjectId: null, ...fact });
    const intervals = ownershipIntervals(this.factsOfDisk.all(fact.diskId).map(toFact));
    this.clearIntervals.run(fact.diskId);
    intervals.forEach((interval, seq) => this.insertInterval.run({ ...interval, seq }));
  }

  /** The disk's intervals, oldest first; empty for a disk no event has named. */
  disk(diskId: string): OwnershipInterval[] {
    return this.intervalsOfDisk.all(diskId).map(toInterval);
  }

  /** The project's intervals that meet [fromMs, toMs) (either end open), by start. */
  project(projectId: string, range: { fromMs?: number; toMs?: number }): OwnershipInterval[] {
    return this.intervalsOfProject.all({ projectId, fromMs: range.fromMs ?? null, toMs: range.toMs ?? null }).map(toInterval);
  }
}
