/**
 * The audit log, beside the consumer machinery's tables in audit's
 * database. Append-only twice over: this class has no path that changes or
 * removes a row, and triggers make the database refuse UPDATE and DELETE on
 * both tables, whoever asks.
 *
 * Pages are ordered by (event time, event id), never by arrival, so two
 * logs built from the same events in different orders (a replay, another
 * partition interleaving) page identically.
 */
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql, type Transaction } from 'kysely';
import { columnTypes, makeAppendOnly } from '../../../../libs/consumer/src/consumer-database';
import type { StoreDatabase, StoreMigration } from '../../../../libs/database/src/store-database';
import type { AuditEntry, ProjectRole } from './audit-entry';

export const AUDIT_MIGRATIONS: readonly StoreMigration[] = [
  {
    // The SQLite-only release created these same tables, indexes and
    // triggers (as audit/1 in its own bookkeeping): if not exists takes such
    // a file over as it is.
    name: '0002_audit_log',
    async up(db, dialect) {
      const types = columnTypes(dialect);
      await db.schema
        .createTable('audit_events')
        .ifNotExists()
        .addColumn('event_id', types.sortedText, (c) => c.primaryKey())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('time_ms', types.epochMs, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('record_key', 'text')
        .addColumn('transfer_id', 'text')
        .addColumn('disk_id', 'text')
        .addColumn('actor_project_id', 'text')
        .addColumn('actor_user_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .modifyEnd(types.strict)
        .execute();
      const byTime = ['time_ms', 'event_id'];
      const indexes: [string, string[]][] = [
        ['audit_events_by_time', byTime],
        ['audit_events_by_transfer', ['transfer_id', ...byTime]],
        ['audit_events_by_disk', ['disk_id', ...byTime]],
        ['audit_events_by_actor', ['actor_project_id', ...byTime]],
        ['audit_events_by_user', ['actor_user_id', ...byTime]],
      ];
      for (const [name, columns] of indexes) {
        await db.schema.createIndex(name).ifNotExists().on('audit_events').columns(columns).execute();
      }
      // Every project an event concerns, and how: what "by project" searches.
      await db.schema
        .createTable('audit_event_projects')
        .ifNotExists()
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('time_ms', types.epochMs, (c) => c.notNull())
        .addColumn('event_id', types.sortedText, (c) => c.notNull().references('audit_events.event_id'))
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('actor', 'owner', 'recipient', 'path')`))
        .addPrimaryKeyConstraint('audit_event_projects_pkey', ['project_id', 'time_ms', 'event_id', 'role'])
        // The primary key is the whole row: SQLite need not keep a rowid table beside it.
        .modifyEnd(dialect === 'sqlite' ? sql`strict, without rowid` : sql``)
        .execute();
      await makeAppendOnly(db, dialect, 'audit_events');
      await makeAppendOnly(db, dialect, 'audit_event_projects');
    },
  },
];

interface AuditEventsTable {
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

interface AuditEventProjectsTable {
  project_id: string;
  time_ms: number;
  event_id: string;
  role: ProjectRole;
}

export interface AuditTables {
  audit_events: AuditEventsTable;
  audit_event_projects: AuditEventProjectsTable;
}

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

type Conditions = ExpressionBuilder<AuditTables, 'audit_events'>;
type Filters = Required<Omit<AuditQuery, 'limit'>>;

/**
 * Each filter's condition; a query is the conditions of the filters it
 * sets, so each can use its index.
 */
const CONDITIONS: { [F in keyof Filters]: (eb: Conditions, value: Filters[F]) => Expression<SqlBool> } = {
  projectId: (eb, projectId) =>
    eb('event_id', 'in', eb.selectFrom('audit_event_projects').select('audit_event_projects.event_id').where('project_id', '=', projectId)),
  diskId: (eb, diskId) => eb('disk_id', '=', diskId),
  transferId: (eb, transferId) => eb('transfer_id', '=', transferId),
  actorProjectId: (eb, actorProjectId) => eb('actor_project_id', '=', actorProjectId),
  actorUserId: (eb, actorUserId) => eb('actor_user_id', '=', actorUserId),
  type: (eb, type) => eb('type', '=', type),
  fromMs: (eb, fromMs) => eb('time_ms', '>=', fromMs),
  toMs: (eb, toMs) => eb('time_ms', '<', toMs),
  // A row value: both databases compare it as (time, then id), and can walk audit_events_by_time for it.
  after: (eb, after) => eb(eb.refTuple('time_ms', 'event_id'), '>', eb.tuple(after.timeMs, after.eventId)),
};

export class AuditLogStore {
  constructor(private readonly store: StoreDatabase<AuditTables>) {}

  /**
   * Appends an entry. Runs in the consumer's transaction, `trx`. ON
   * CONFLICT DO NOTHING: the consumer already drops a known event id; this
   * keeps a stray second append from failing the batch rather than from
   * changing anything.
   */
  async append(trx: Transaction<AuditTables>, entry: AuditEntry): Promise<void> {
    await trx
      .insertInto('audit_events')
      .values({
        event_id: entry.eventId,
        topic: entry.topic,
        type: entry.type,
        time_ms: entry.timeMs,
        subject: entry.subject,
        record_key: entry.key,
        transfer_id: entry.transferId,
        disk_id: entry.diskId,
        actor_project_id: entry.actor.projectId,
        actor_user_id: entry.actor.userId,
        data: JSON.stringify(entry.data ?? null),
      })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
    if (entry.projects.length === 0) return;
    await trx
      .insertInto('audit_event_projects')
      .values(entry.projects.map(({ projectId, role }) => ({ project_id: projectId, time_ms: entry.timeMs, event_id: entry.eventId, role })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** One page in (time, id) order, and whether more follow. */
  async query(query: AuditQuery): Promise<{ entries: StoredAuditEntry[]; more: boolean }> {
    const rows = await this.store.run((db) => pageQuery(db, query).execute());
    const more = rows.length > query.limit;
    return { entries: rows.slice(0, query.limit).map(toEntry), more };
  }
}

function pageQuery(db: Kysely<AuditTables>, query: AuditQuery) {
  let select = db.selectFrom('audit_events').selectAll();
  for (const filter of Object.keys(CONDITIONS) as (keyof Filters)[]) {
    const value = query[filter];
    if (value === undefined) continue;
    // Each condition takes its own filter's value; the loop cannot say which one it holds.
    const condition = CONDITIONS[filter] as (eb: Conditions, value: Filters[keyof Filters]) => Expression<SqlBool>;
    select = select.where((eb) => condition(eb, value));
  }
  return select.orderBy('time_ms').orderBy('event_id').limit(query.limit + 1);
}

function toEntry(row: AuditEventsTable): StoredAuditEntry {
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
