/**
 * The audit log in SQLite. Append-only twice over: this class has no path
 * that changes or removes a row, and triggers make the database refuse
 * UPDATE and DELETE on both tables, whoever asks.
 *
 * Pages are ordered by (event time, event id), never by arrival, so two
 * logs built from the same events in different orders (a replay, another
 * partition interleaving) page identically.
 */
import type Database from 'better-sqlite3';
import { appendOnlyTriggers, type Migration } from '../../../../libs/consumer/src/consumer-database';
import type { AuditEntry } from './audit-entry';

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    id: 'audit/1',
    sql: `
  CREATE TABLE audit_events (
    event_id         TEXT    PRIMARY KEY,
    topic            TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    time_ms          INTEGER NOT NULL,
    subject          TEXT    NOT NULL,
    record_key       TEXT,
    transfer_id      TEXT,
    disk_id          TEXT,
    actor_project_id TEXT,
    actor_user_id    TEXT,
    data             TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX audit_events_by_time     ON audit_events (time_ms, event_id);
  CREATE INDEX audit_events_by_transfer ON audit_events (transfer_id, time_ms, event_id);
  CREATE INDEX audit_events_by_disk     ON audit_events (disk_id, time_ms, event_id);
  CREATE INDEX audit_events_by_actor    ON audit_events (actor_project_id, time_ms, event_id);
  CREATE INDEX audit_events_by_user     ON audit_events (actor_user_id, time_ms, event_id);

  -- Every project an event concerns, and how: what "by project" searches.
  CREATE TABLE audit_event_projects (
    project_id TEXT    NOT NULL,
    time_ms    INTEGER NOT NULL,
    event_id   TEXT    NOT NULL REFERENCES audit_events (event_id),
    role       TEXT    NOT NULL CHECK (role IN ('actor', 'owner', 'recipient', 'path')),
    PRIMARY KEY (project_id, time_ms, event_id, role)
  ) STRICT, WITHOUT ROWID;
  ${appendOnlyTriggers('audit_events')}
  ${appendOnlyTriggers('audit_event_projects')}
  `,
  },
];

export interface AuditQuery {
  /** Any role: actor, owner, recipient, or the project in an API call's path. */
  projectId?: string;
  diskId?: string;
  transferId?: string;
  actorProjectId?: string;
  actorUserId?: string;
  type?: string;
  fromMs?: number;
  toMs?: number;
  /** Continue after this entry (the last of the previous page). */
  after?: { timeMs: number; eventId: string };
  limit: number;
}

/** An entry as read back; the projects it concerns are for searching, not repeated in answers. */
export type StoredAuditEntry = Omit<AuditEntry, 'projects'>;

interface Row {
  event_id: string;
  topic: string;
  type: string;
  time_ms: number;
  subject: string;
  record_key: string | null;
  transfer_id: string | null;
  disk_id: string | null;
  actor_project_id: string | null;
  actor_user_id: string | null;
  data: string;
}

/** Each filter's condition; a query's SQL is the conditions of the filters it sets, so each can use its index. */
const CONDITIONS = {
  projectId: 'event_id IN (SELECT event_id FROM audit_event_projects WHERE project_id = @projectId)',
  diskId: 'disk_id = @diskId',
  transferId: 'transfer_id = @transferId',
  actorProjectId: 'actor_project_id = @actorProjectId',
  actorUserId: 'actor_user_id = @actorUserId',
  type: 'type = @type',
  fromMs: 'time_ms >= @fromMs',
  toMs: 'time_ms < @toMs',
  after: '(time_ms, event_id) > (@afterTimeMs, @afterEventId)',
} as const;
type Filter = keyof typeof CONDITIONS;

export class AuditLogStore {
  private readonly insertEvent: Database.Statement;
  private readonly insertProject: Database.Statement;
  private readonly queries = new Map<string, Database.Statement<Record<string, unknown>, Row>>();

  constructor(private readonly db: Database.Database) {
    // OR IGNORE: the consumer already drops a known event id; this keeps a
    // stray second append from failing the batch rather than from changing anything.
    this.insertEvent = db.prepare(`
      INSERT OR IGNORE INTO audit_events
        (event_id, topic, type, time_ms, subject, record_key, transfer_id, disk_id, actor_project_id, actor_user_id, data)
      VALUES (@eventId, @topic, @type, @timeMs, @subject, @key, @transferId, @diskId, @actorProjectId, @actorUserId, @data)`);
    this.insertProject = db.prepare(`
      INSERT OR IGNORE INTO audit_event_projects (project_id, time_ms, event_id, role) VALUES (?, ?, ?, ?)`);
  }

  /** Appends an entry. Runs inside the consumer's transaction. */
  append(entry: AuditEntry): void {
    this.insertEvent.run({
      eventId: entry.eventId,
      topic: entry.topic,
      type: entry.type,
      timeMs: entry.timeMs,
      subject: entry.subject,
      key: entry.key,
      transferId: entry.transferId,
      diskId: entry.diskId,
      actorProjectId: entry.actor.projectId,
      actorUserId: entry.actor.userId,
      data: JSON.stringify(entry.data ?? null),
    });
    for (const { projectId, role } of entry.projects) this.insertProject.run(projectId, entry.timeMs, entry.eventId, role);
  }

  /** One page in (time, id) order, and whether more follow. */
  query(query: AuditQuery): { entries: StoredAuditEntry[]; more: boolean } {
    const params: Record<string, unknown> = { limit: query.limit + 1 };
    const used: Filter[] = [];
    for (const filter of Object.keys(CONDITIONS) as Filter[]) {
      const value = query[filter];
      if (value === undefined) continue;
      used.push(filter);
      if (filter === 'after') {
        params.afterTimeMs = query.after!.timeMs;
        params.afterEventId = query.after!.eventId;
      } else {
        params[filter] = value;
      }
    }
    const rows = this.statementFor(used).all(params);
    const more = rows.length > query.limit;
    return { entries: rows.slice(0, query.limit).map(toEntry), more };
  }

  private statementFor(filters: Filter[]): Database.Statement<Record<string, unknown>, Row> {
    const key = filters.join(',');
    let statement = this.queries.get(key);
    if (!statement) {
      const where = filters.length > 0 ? `WHERE ${filters.map((f) => CONDITIONS[f]).join(' AND ')}` : '';
      statement = this.db.prepare<Record<string, unknown>, Row>(`SELECT * FROM audit_events ${where} ORDER BY time_ms, event_id LIMIT @limit`);
      this.queries.set(key, statement);
    }
    return statement;
  }
}

function toEntry(row: Row): StoredAuditEntry {
  return {
    eventId: row.event_id,
    topic: row.topic,
    type: row.type,
    timeMs: row.time_ms,
    subject: row.subject,
    key: row.record_key,
    transferId: row.transfer_id,
    diskId: row.disk_id,
    actor: { projectId: row.actor_project_id, userId: row.actor_user_id },
    data: JSON.parse(row.data) as unknown,
  };
}
