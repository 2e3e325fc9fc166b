/**
 * The audit log fed through the consumer machinery, on SQLite and
 * PostgreSQL: every event of the three topics kept once, found by any
 * handle, paged in one stable order on either database, and never changed.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLogHandler } from '../../apps/audit/src/log/audit-log.handler';
import { AUDIT_MIGRATIONS, type AuditQuery, AuditLogStore, type AuditTables } from '../../apps/audit/src/log/audit-log.store';
import { type ConsumerTables, openConsumerDatabase } from '../../libs/consumer/src/consumer-database';
import { type ConsumedRecord, ExactlyOnceProcessor } from '../../libs/consumer/src/event-processor';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, type OutgoingRecord, transferEventRecord } from '../../libs/contracts/src/events';
import type { StoreDatabase } from '../../libs/database/src/store-database';
import type { DiskFacts } from '../../libs/domain/src/disk';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';
import { writeReleaseOneFile } from './consumer-support';

const T = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);
const disk = { id: 'disk-1', projectId: 'a', sizeGb: 10, volumeType: 'SSD' } as DiskFacts;
const state = evolveAll(
  initialState({
    transferId: 't1',
    volumeId: 'disk-1',
    name: null,
    owner: { projectId: 'a', userId: 'alice', requestId: 'req-1' },
    createdAtMs: T(1),
    authKeyHash: 'hash',
    policy: DEFAULT_TRANSFER_POLICY,
  }),
  [{ type: 'TransferCreated', at: T(1), disk }],
);
const lifecycle = (event: PublishedTransferEvent) => transferEventRecord(state, event);
const api = (requestId: string, minute: number, actor: string | null, pathProject: string, status: number) =>
  apiAuditRecord({
    requestId,
    at: T(minute),
    action: API_ACTIONS.accept,
    actor: { projectId: actor, userId: actor ? `${actor}-user` : null },
    pathProjectId: pathProject,
    target: { transferId: 't1', volumeId: 'disk-1' },
    outcome: { status, code: status < 400 ? null : 'EVS.5440' },
    sourceIp: '127.0.0.1',
  });

/** t1: a creates; m from project m guesses a wrong key, then knocks on a's path; b accepts. */
const STREAM: OutgoingRecord[] = [
  api('req-1', 1, 'a', 'a', 202),
  lifecycle({ type: 'TransferCreated', at: T(1), disk }),
  lifecycle({ type: 'AcceptAttemptFailed', at: T(2), actor: { projectId: 'm', userId: 'mallory', requestId: 'req-2' }, reason: 'InvalidAuthKey', attempt: 1 }),
  api('req-2', 2, 'm', 'm', 400),
  api('req-3', 3, 'm', 'a', 403),
  lifecycle({ type: 'TransferAccepted', at: T(4), recipient: { projectId: 'b', userId: 'bob', requestId: 'req-4' }, disk }),
  api('req-4', 4, 'b', 'b', 202),
];

let offset = 0;
function consumed(record: OutgoingRecord): ConsumedRecord {
  const m = toBinaryModeMessage(record);
  return { topic: record.topic, partition: 0, offset: String(offset++), key: m.key, value: m.value, headers: m.headers };
}

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

type AuditDatabase = StoreDatabase<ConsumerTables & AuditTables>;

const ids = async (store: AuditLogStore, query: Omit<AuditQuery, 'limit'>) => (await store.query({ limit: 100, ...query })).entries.map((e) => e.eventId);

describe.each(DIALECTS)('the audit log on %s', (dialect) => {
  const places: DisposableTarget[] = [];
  const opened: AuditDatabase[] = [];

  /** An audit log of its own, fed `records`. */
  async function auditLog(records: readonly OutgoingRecord[]) {
    const place = await freshStoreTarget(dialect, 'audit');
    places.push(place);
    const db = await openConsumerDatabase<AuditTables>({ store: 'audit', target: place.target, migrations: AUDIT_MIGRATIONS });
    opened.push(db);
    const store = new AuditLogStore(db);
    const processor = new ExactlyOnceProcessor(db, auditLogHandler(store), { logger: silent });
    await processor.processAll(records.map(consumed));
    return { db, store, processor };
  }

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const place of places.splice(0)) await place.dispose();
  });

  it('keeps every event of the three topics, oldest first, with its data whole', async () => {
    const { store } = await auditLog(STREAM);
    const { entries } = await store.query({ limit: 100 });
    expect(entries.map((e) => e.eventId)).toEqual(['api/req-1', 't1/created', 'api/req-2', 't1/accept_failed/1', 'api/req-3', 'api/req-4', 't1/accepted']);
    const accepted = entries.find((e) => e.type === CLOUD_EVENT_TYPES.TransferAccepted);
    expect(accepted).toMatchObject({ transferId: 't1', diskId: 'disk-1', key: 'disk-1', actor: { projectId: 'b', userId: 'bob' }, timeMs: T(4) });
    expect(typeof accepted?.timeMs).toBe('number');
    expect(accepted?.data).toEqual(STREAM[5].event.data);
  });

  it('finds a project’s events in any role: actor, owner, recipient, or the project a caller addressed', async () => {
    const { store } = await auditLog(STREAM);
    // a: created it, owns the disk in the failed attempt and the acceptance, and was addressed by m's call.
    expect(await ids(store, { projectId: 'a' })).toEqual(['api/req-1', 't1/created', 't1/accept_failed/1', 'api/req-3', 't1/accepted']);
    expect(await ids(store, { projectId: 'b' })).toEqual(['api/req-4', 't1/accepted']);
    expect(await ids(store, { projectId: 'm' })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(await ids(store, { actorProjectId: 'm' })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(await ids(store, { actorUserId: 'mallory' })).toEqual(['t1/accept_failed/1']);
  });

  it('filters by disk, transfer, type and half-open time range, together', async () => {
    const { store } = await auditLog(STREAM);
    expect(await ids(store, { transferId: 't1', type: CLOUD_EVENT_TYPES.ApiCallAudited })).toEqual(['api/req-1', 'api/req-2', 'api/req-3', 'api/req-4']);
    expect(await ids(store, { diskId: 'disk-1', fromMs: T(2), toMs: T(4) })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(await ids(store, { diskId: 'disk-2' })).toEqual([]);
  });

  it('pages through in a stable order, the same whatever order the events arrived in', async () => {
    const forward = (await auditLog(STREAM)).store;
    const backward = (await auditLog([...STREAM].reverse())).store;
    const pages = async (store: AuditLogStore) => {
      const seen: string[][] = [];
      let after: AuditQuery['after'];
      for (;;) {
        const { entries, more } = await store.query({ projectId: 'a', limit: 2, after });
        seen.push(entries.map((e) => e.eventId));
        if (!more) return seen;
        const last = entries[entries.length - 1];
        after = { timeMs: last.timeMs, eventId: last.eventId };
      }
    };
    expect(await pages(forward)).toEqual([['api/req-1', 't1/created'], ['t1/accept_failed/1', 'api/req-3'], ['t1/accepted']]);
    expect(await pages(backward)).toEqual(await pages(forward));
  });

  it('orders ids of one moment byte by byte on either database, whatever the server’s locale', async () => {
    // A locale-aware collation would put 'a-b' and 'a_b' by their letters; bytes put '-' (2d) before 'B' (42) before '_' (5f) before 'a' (61).
    const at = (id: string) => ({ ...STREAM[0], event: { ...STREAM[0].event, id } });
    const { store } = await auditLog([at('a_b'), at('ab'), at('aB'), at('a-b')]);
    expect(await ids(store, {})).toEqual(['a-b', 'aB', 'a_b', 'ab']);
    const [first, second] = [await store.query({ limit: 2 }), await store.query({ limit: 2, after: { timeMs: T(1), eventId: 'aB' } })];
    expect(first.entries.map((e) => e.eventId)).toEqual(['a-b', 'aB']);
    expect(second.entries.map((e) => e.eventId)).toEqual(['a_b', 'ab']);
  });

  it('keeps each event once, skips what it cannot read, and refuses any change to what it keeps', async () => {
    const unknownType = { ...STREAM[0], event: { ...STREAM[0].event, id: 'api/req-new', type: 'com.huaweicloud.evs.api.called.v2' } };
    const { db, store, processor } = await auditLog([...STREAM, ...STREAM, unknownType]);
    expect((await store.query({ limit: 100 })).entries).toHaveLength(STREAM.length);
    expect((await processor.metrics()).since_start).toMatchObject({ processed: STREAM.length, duplicates: STREAM.length, skipped: { unknown: 1 } });
    await expect(sql`UPDATE audit_events SET actor_project_id = 'x'`.execute(db.db)).rejects.toThrow(/audit_events is append-only/);
    await expect(sql`DELETE FROM audit_events`.execute(db.db)).rejects.toThrow(/audit_events is append-only/);
    await expect(sql`DELETE FROM audit_event_projects`.execute(db.db)).rejects.toThrow(/audit_event_projects is append-only/);
    if (dialect === 'postgres') {
      await expect(sql`TRUNCATE audit_event_projects`.execute(db.db)).rejects.toThrow(/audit_event_projects is append-only/);
    }
  });
});

describe('an audit file written by the SQLite-only release', () => {
  let place: DisposableTarget;
  beforeEach(async () => {
    place = await freshStoreTarget('sqlite', 'audit');
  });
  afterEach(async () => {
    await place.dispose();
  });

  it('is taken over with its entries, and stays append-only', async () => {
    if (place.target.dialect !== 'sqlite') throw new Error('a SQLite target');
    writeReleaseOneFile(place.target.file, 'audit', (old) => {
      old
        .prepare(
          `INSERT INTO audit_events (event_id, topic, type, time_ms, subject, record_key, transfer_id, disk_id, actor_project_id, actor_user_id, data)
           VALUES ('api/req-0', 'evs.api.audit.v1', ?, ?, 'transfers/t0', 'disk-0', 't0', 'disk-0', 'a', 'alice', '{"old":true}')`,
        )
        .run(CLOUD_EVENT_TYPES.ApiCallAudited, T(0));
      old.prepare("INSERT INTO audit_event_projects (project_id, time_ms, event_id, role) VALUES ('a', ?, 'api/req-0', 'actor')").run(T(0));
    });
    const db = await openConsumerDatabase<AuditTables>({ store: 'audit', target: place.target, migrations: AUDIT_MIGRATIONS });
    try {
      const store = new AuditLogStore(db);
      await new ExactlyOnceProcessor(db, auditLogHandler(store), { logger: silent }).processAll([consumed(STREAM[0])]);
      expect(await ids(store, { projectId: 'a' })).toEqual(['api/req-0', 'api/req-1']);
      expect((await store.query({ limit: 1 })).entries[0]?.data).toEqual({ old: true });
      await expect(sql`DELETE FROM audit_events`.execute(db.db)).rejects.toThrow(/audit_events is append-only/);
    } finally {
      await db.close();
    }
  });
});
