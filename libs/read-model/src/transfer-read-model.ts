/**
 * The read side of transfers: what show and list answer from. The worker's
 * activities write it as the workflow moves (pending, then one ending); the
 * gateway only reads it. Both processes open the same SQLite file, so it runs
 * in WAL mode (readers never block the writer) with a busy timeout for the
 * rare moment two writers meet (migrations at start-up).
 *
 * The workflow stays the authority: this table is a projection that may lag
 * it by an activity, never lead it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

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
}

/**
 * Ordered, append-only. Each entry runs once, in one transaction, and bumps
 * PRAGMA user_version; never edit an entry that has shipped, add a new one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE transfers (
    id                     TEXT    PRIMARY KEY,
    name                   TEXT,
    volume_id              TEXT,
    project_id             TEXT,
    status                 TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'deleted', 'expired')),
    created_at             INTEGER,
    expires_at             INTEGER,
    ended_at               INTEGER,
    destination_project_id TEXT,
    -- An ending may be recorded before (or without) the pending row, in which
    -- case only the id and the ending are known: the row is a tombstone that
    -- stops a late recordPending from bringing the transfer back.
    CHECK (status <> 'pending' OR (volume_id IS NOT NULL AND project_id IS NOT NULL
                                   AND created_at IS NOT NULL AND expires_at IS NOT NULL))
  ) STRICT;
  CREATE INDEX transfers_by_project ON transfers (project_id, status, created_at, id);
  `,
  // The administrator's list of every project's pending transfers walks this
  // in the list order, instead of sorting the whole table on each page.
  `
  CREATE INDEX transfers_by_status ON transfers (status, created_at, id);
  `,
];

interface DbRow {
  id: string;
  name: string | null;
  volume_id: string;
  project_id: string;
  status: TransferRowStatus;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  destination_project_id: string | null;
}

const COLUMNS = 'id, name, volume_id, project_id, status, created_at, expires_at, ended_at, destination_project_id';

function toRow(r: DbRow): TransferRow {
  return {
    id: r.id,
    name: r.name,
    volumeId: r.volume_id,
    projectId: r.project_id,
    status: r.status,
    createdAtMs: r.created_at,
    expiresAtMs: r.expires_at,
    endedAtMs: r.ended_at,
    destinationProjectId: r.destination_project_id,
  };
}

function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock before reading user_version, so two
  // processes starting together cannot both apply the same migration.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]);
    }
    if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

export class TransferReadModel {
  private readonly insertPending: Database.Statement;
  private readonly markEnded: Database.Statement;
  private readonly insertTombstone: Database.Statement;
  private readonly selectPending: Database.Statement;
  private readonly selectPendingPage: Database.Statement;
  private readonly selectAllPendingPage: Database.Statement;
  private readonly selectById: Database.Statement;
  private readonly recordEndedTx: (id: string, outcome: TransferOutcome, atMs: number, dest: string | null) => void;

  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {
    // The pending row is written from the workflow's own facts, so a repeat
    // carries the same values; it only ever refreshes a row still pending and
    // never touches an ended one (no resurrection).
    this.insertPending = db.prepare(`
      INSERT INTO transfers (id, name, volume_id, project_id, status, created_at, expires_at)
      VALUES (@id, @name, @volumeId, @projectId, 'pending', @createdAtMs, @expiresAtMs)
      ON CONFLICT (id) DO UPDATE SET
        name = excluded.name, volume_id = excluded.volume_id, project_id = excluded.project_id,
        created_at = excluded.created_at, expires_at = excluded.expires_at
      WHERE transfers.status = 'pending'`);
    // Only the first ending counts: a workflow has exactly one, and a retried
    // activity must not move ended_at.
    this.markEnded = db.prepare(`
      UPDATE transfers SET status = @outcome, ended_at = @atMs, destination_project_id = @dest
      WHERE id = @id AND status = 'pending'`);
    this.insertTombstone = db.prepare(`
      INSERT INTO transfers (id, status, ended_at, destination_project_id)
      VALUES (@id, @outcome, @atMs, @dest)
      ON CONFLICT (id) DO NOTHING`);
    this.selectPending = db.prepare(`
      SELECT ${COLUMNS} FROM transfers
      WHERE project_id = ? AND status = 'pending' AND id = ? AND expires_at > ?`);
    this.selectPendingPage = db.prepare(`
      SELECT ${COLUMNS} FROM transfers
      WHERE project_id = ? AND status = 'pending' AND expires_at > ?
      ORDER BY created_at ASC, id ASC
      LIMIT ? OFFSET ?`);
    this.selectAllPendingPage = db.prepare(`
      SELECT ${COLUMNS} FROM transfers
      WHERE status = 'pending' AND expires_at > ?
      ORDER BY created_at ASC, id ASC
      LIMIT ? OFFSET ?`);
    this.selectById = db.prepare(`SELECT ${COLUMNS} FROM transfers WHERE id = ?`);
    this.recordEndedTx = db.transaction((id: string, outcome: TransferOutcome, atMs: number, dest: string | null) => {
      const params = { id, outcome, atMs, dest };
      if (this.markEnded.run(params).changes === 0) this.insertTombstone.run(params);
    });
  }

  /** Opens (creating the file, its folder and the schema if needed) the read model at dbPath. */
  static open(dbPath: string, options: ReadModelOptions = {}): TransferReadModel {
    fs.mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    const db = new Database(dbPath, { timeout: 5000 });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return new TransferReadModel(db, options.now ?? Date.now);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The transfer is pending. Idempotent; a transfer already ended stays ended. */
  recordPending(row: PendingTransferInput): void {
    this.insertPending.run({
      id: row.id,
      name: row.name,
      volumeId: row.volumeId,
      projectId: row.projectId,
      createdAtMs: row.createdAtMs,
      expiresAtMs: row.expiresAtMs,
    });
  }

  /** The transfer ended. Idempotent: the first ending recorded is kept. */
  recordEnded(id: string, outcome: TransferOutcome, atMs: number, destinationProjectId: string | null): void {
    this.recordEndedTx(id, outcome, atMs, destinationProjectId);
  }

  /** The project's pending transfer with this id, or null (also for another project's). */
  findPending(projectId: string, id: string): TransferRow | null {
    const row = this.selectPending.get(projectId, id, this.now()) as DbRow | undefined;
    return row ? toRow(row) : null;
  }

  /** The project's pending transfers, oldest first (created_at, then id). */
  listPending(projectId: string, page: ListPage): TransferRow[] {
    const rows = this.selectPendingPage.all(projectId, this.now(), page.limit, page.offset) as DbRow[];
    return rows.map(toRow);
  }

  /** Every project's pending transfers, in the same order: the administrator's all_tenants list. */
  listPendingAllProjects(page: ListPage): TransferRow[] {
    const rows = this.selectAllPendingPage.all(this.now(), page.limit, page.offset) as DbRow[];
    return rows.map(toRow);
  }

  /**
   * The transfer with this id in whatever project and state, or null: what
   * an administrator's force-delete knows of its target before the workflow
   * answers (an ending recorded before the pending row has no project yet).
   */
  findAnyProject(id: string): TransferRow | null {
    const row = this.selectById.get(id) as DbRow | undefined;
    return row ? toRow(row) : null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
